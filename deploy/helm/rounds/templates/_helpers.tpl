{{- define "rounds.name" -}}{{ .Chart.Name }}{{- end -}}
{{- define "rounds.fullname" -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- define "rounds.labels" -}}
app.kubernetes.io/name: {{ include "rounds.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
{{- define "rounds.selector" -}}
app.kubernetes.io/name: {{ include "rounds.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "rounds.secretName" -}}{{ include "rounds.fullname" . }}-secrets{{- end -}}
