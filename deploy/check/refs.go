package main

import (
	"errors"
	"fmt"

	"github.com/robfig/cron/v3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// crossCheck follows the references between rendered objects: a typo in a
// selector or a port name decodes fine and only shows in a cluster, as pods
// no Service reaches.
func crossCheck(objs []any) error {
	deployments := map[string]*appsv1.Deployment{}
	services := map[string]*corev1.Service{}
	secrets := map[string]*corev1.Secret{}
	for _, o := range objs {
		switch v := o.(type) {
		case *appsv1.Deployment:
			deployments[v.Name] = v
		case *corev1.Service:
			services[v.Name] = v
		case *corev1.Secret:
			secrets[v.Name] = v
		}
	}
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, d := range deployments {
		checkPod("Deployment "+d.Name, d.Spec.Template.Spec, secrets, fail, true)
		if d.Spec.Selector == nil || !subset(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
			fail("Deployment %s: selector does not match its own pod labels", d.Name)
		}
	}
	for _, o := range objs {
		switch v := o.(type) {
		case *corev1.Service:
			if d := selecting(deployments, v.Spec.Selector); d == nil {
				fail("Service %s: selector %v matches no rendered Deployment's pods", v.Name, v.Spec.Selector)
			} else {
				for _, p := range v.Spec.Ports {
					if !hasPort(d, p.TargetPort) {
						fail("Service %s: targetPort %s is not a port of Deployment %s", v.Name, p.TargetPort.String(), d.Name)
					}
				}
			}
		case *batchv1.CronJob:
			if _, err := cron.ParseStandard(v.Spec.Schedule); err != nil {
				fail("CronJob %s: schedule %q: %v", v.Name, v.Spec.Schedule, err)
			}
			checkPod("CronJob "+v.Name, v.Spec.JobTemplate.Spec.Template.Spec, secrets, fail, false)
		case *policyv1.PodDisruptionBudget:
			if v.Spec.Selector == nil || selecting(deployments, v.Spec.Selector.MatchLabels) == nil {
				fail("PodDisruptionBudget %s: selector matches no rendered Deployment's pods", v.Name)
			}
			if v.Spec.MinAvailable == nil && v.Spec.MaxUnavailable == nil {
				fail("PodDisruptionBudget %s: neither minAvailable nor maxUnavailable", v.Name)
			}
		case *autoscalingv2.HorizontalPodAutoscaler:
			t := v.Spec.ScaleTargetRef
			if t.Kind != "Deployment" || deployments[t.Name] == nil {
				fail("HorizontalPodAutoscaler %s: target %s %s is not rendered", v.Name, t.Kind, t.Name)
			}
			if v.Spec.MinReplicas != nil && *v.Spec.MinReplicas > v.Spec.MaxReplicas {
				fail("HorizontalPodAutoscaler %s: minReplicas %d above maxReplicas %d", v.Name, *v.Spec.MinReplicas, v.Spec.MaxReplicas)
			}
		case *networkingv1.Ingress:
			for _, r := range v.Spec.Rules {
				if r.HTTP == nil {
					continue
				}
				for _, p := range r.HTTP.Paths {
					svc := p.Backend.Service
					if svc == nil || services[svc.Name] == nil {
						fail("Ingress %s: backend service is not rendered", v.Name)
						continue
					}
					if !servicePort(services[svc.Name], svc.Port) {
						fail("Ingress %s: service %s has no port %v", v.Name, svc.Name, svc.Port)
					}
				}
			}
		}
	}
	return errors.Join(errs...)
}

// checkPod holds every Rounds pod to the guide's promises: requests,
// non-root, Secrets that have the keys asked for; servers also need probes
// on their own ports.
func checkPod(owner string, pod corev1.PodSpec, secrets map[string]*corev1.Secret, fail func(string, ...any), server bool) {
	if len(pod.Containers) == 0 {
		fail("%s: no containers", owner)
	}
	podNonRoot := pod.SecurityContext != nil && pod.SecurityContext.RunAsNonRoot != nil && *pod.SecurityContext.RunAsNonRoot
	for _, c := range pod.Containers {
		where := fmt.Sprintf("%s container %s", owner, c.Name)
		if c.Image == "" || c.Image[len(c.Image)-1] == ':' {
			fail("%s: image %q has no tag", where, c.Image)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
			fail("%s: needs cpu and memory requests (the autoscaler and the scheduler use them)", where)
		}
		if server && (c.ReadinessProbe == nil || c.LivenessProbe == nil) {
			fail("%s: needs readiness and liveness probes", where)
		}
		for _, p := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe, c.StartupProbe} {
			if p != nil && p.HTTPGet != nil && !containerPort(c, p.HTTPGet.Port) {
				fail("%s: probe port %s is not a port of the container", where, p.HTTPGet.Port.String())
			}
		}
		nonRoot := podNonRoot || (c.SecurityContext != nil && c.SecurityContext.RunAsNonRoot != nil && *c.SecurityContext.RunAsNonRoot)
		if !nonRoot {
			fail("%s: must run as non-root (runAsNonRoot)", where)
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
				continue
			}
			ref := e.ValueFrom.SecretKeyRef
			s, rendered := secrets[ref.Name]
			if !rendered {
				continue // an existing Secret the operator provides
			}
			_, inData := s.Data[ref.Key]
			_, inString := s.StringData[ref.Key]
			if !inData && !inString {
				fail("%s: %s refers to key %q that Secret %s does not have", where, e.Name, ref.Key, ref.Name)
			}
		}
	}
}

func selecting(ds map[string]*appsv1.Deployment, sel map[string]string) *appsv1.Deployment {
	if len(sel) == 0 {
		return nil
	}
	for _, d := range ds {
		if subset(sel, d.Spec.Template.Labels) {
			return d
		}
	}
	return nil
}

func subset(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func hasPort(d *appsv1.Deployment, p intstr.IntOrString) bool {
	for _, c := range d.Spec.Template.Spec.Containers {
		if containerPort(c, p) {
			return true
		}
	}
	return false
}

func containerPort(c corev1.Container, p intstr.IntOrString) bool {
	for _, cp := range c.Ports {
		if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
			return true
		}
	}
	return false
}

func servicePort(s *corev1.Service, p networkingv1.ServiceBackendPort) bool {
	for _, sp := range s.Spec.Ports {
		if (p.Name != "" && sp.Name == p.Name) || (p.Number != 0 && sp.Port == p.Number) {
			return true
		}
	}
	return false
}
