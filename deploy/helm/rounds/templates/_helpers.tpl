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

{{/* The environment every Rounds container gets: the server and the backup job. */}}
{{- define "rounds.env" -}}
- name: ROUNDS_SERVER_LISTEN
  value: ":8080"
- name: ROUNDS_DATA_DIR
  value: /var/lib/rounds
- name: ROUNDS_LOG_FORMAT
  value: {{ .Values.config.logFormat | quote }}
- name: ROUNDS_LOG_LEVEL
  value: {{ .Values.config.logLevel | quote }}
- name: ROUNDS_SERVER_TRUSTED_PROXIES
  value: {{ .Values.config.trustedProxies | quote }}
- name: ROUNDS_IDENTITY_SECURE_COOKIES
  value: {{ .Values.config.secureCookies | quote }}
- name: ROUNDS_DATABASE_POSTGRES_DSN
  valueFrom:
    secretKeyRef:
      name: {{ .Values.postgres.existingSecret | default (include "rounds.secretName" .) }}
      key: dsn
- name: ROUNDS_BUS_NATS_URL
  value: {{ .Values.nats.url | quote }}
- name: ROUNDS_BUS_SUBJECT_PREFIX
  value: {{ .Values.nats.subjectPrefix | quote }}
- name: ROUNDS_FILES_MINIO_ENDPOINT
  value: {{ .Values.minio.endpoint | quote }}
- name: ROUNDS_FILES_MINIO_BUCKET
  value: {{ .Values.minio.bucket | quote }}
- name: ROUNDS_FILES_MINIO_USE_SSL
  value: {{ .Values.minio.useSSL | quote }}
- name: ROUNDS_FILES_MINIO_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.minio.existingSecret | default (include "rounds.secretName" .) }}
      key: access_key
- name: ROUNDS_FILES_MINIO_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.minio.existingSecret | default (include "rounds.secretName" .) }}
      key: secret_key
{{- if .Values.elasticsearch.addresses }}
- name: ROUNDS_SEARCH_ELASTICSEARCH_ADDRESSES
  value: {{ join "," .Values.elasticsearch.addresses | quote }}
- name: ROUNDS_SEARCH_ELASTICSEARCH_USERNAME
  value: {{ .Values.elasticsearch.username | quote }}
- name: ROUNDS_SEARCH_ELASTICSEARCH_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "rounds.secretName" . }}
      key: es_password
{{- end }}
{{- if .Values.tracing.otlpEndpoint }}
- name: ROUNDS_TRACING_OTLP_ENDPOINT
  value: {{ .Values.tracing.otlpEndpoint | quote }}
- name: ROUNDS_TRACING_SAMPLE_RATIO
  value: {{ .Values.tracing.sampleRatio | quote }}
- name: ROUNDS_TRACING_SERVICE_NAME
  value: {{ .Values.tracing.serviceName | quote }}
{{- if or .Values.tracing.headers .Values.tracing.existingSecret }}
- name: ROUNDS_TRACING_HEADERS
  valueFrom:
    secretKeyRef:
      name: {{ .Values.tracing.existingSecret | default (include "rounds.secretName" .) }}
      key: otlp_headers
{{- end }}
{{- end }}
{{- end -}}
