{{/* Names are cut to 63 characters, the limit of a DNS label. */}}
{{- define "purser.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "purser.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "purser.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels never change across upgrades: a Deployment's selector is immutable. */}}
{{- define "purser.selectorLabels" -}}
app.kubernetes.io/name: {{ include "purser.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "purser.labels" -}}
helm.sh/chart: {{ include "purser.chart" . }}
{{ include "purser.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: {{ .Values.mode }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "purser.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "purser.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name must name an existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* A digest pins the image; the tag is then only a hint for people and is dropped. */}}
{{- define "purser.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "purser.sqliteClaim" -}}
{{- default (printf "%s-data" (include "purser.fullname" .)) .Values.persistence.existingClaim -}}
{{- end -}}

{{- define "purser.reportsClaim" -}}
{{- default (printf "%s-reports" (include "purser.fullname" .)) .Values.cronjob.reports.existingClaim -}}
{{- end -}}

{{/* Whether the pod uses a history database at all: always when serving, on request in mode cronjob. */}}
{{- define "purser.usesStore" -}}
{{- if or (eq .Values.mode "serve") .Values.cronjob.store -}}true{{- end -}}
{{- end -}}

{{/*
The value of --store. A PostgreSQL URL holds a password, so it comes from a
Secret into an environment variable, and the kubelet expands $(PURSER_STORE)
in the arguments: the URL never appears in the pod spec.
*/}}
{{- define "purser.storeArg" -}}
{{- if eq .Values.store.type "postgres" -}}
--store=$(PURSER_STORE)
{{- else -}}
--store=/var/lib/purser/{{ .Values.store.sqlite.file }}
{{- end -}}
{{- end -}}

{{/*
Refuses combinations that would install but not work. Two replicas on one
SQLite file would both write it (and a ReadWriteOnce claim would keep the
second pod from starting at all).
*/}}
{{- define "purser.validate" -}}
{{- if and (eq .Values.mode "serve") (eq .Values.store.type "sqlite") (gt (int .Values.serve.replicas) 1) -}}
{{- fail (printf "serve.replicas is %d but store.type is sqlite: a SQLite file has one writer; use serve.replicas 1, or store.type postgres for several replicas" (int .Values.serve.replicas)) -}}
{{- end -}}
{{- if and (include "purser.usesStore" .) (eq .Values.store.type "postgres") (not .Values.store.postgres.existingSecret) -}}
{{- fail "store.type is postgres: set store.postgres.existingSecret to a Secret holding the postgres:// URL (under store.postgres.key)" -}}
{{- end -}}
{{- end -}}

{{/* The environment and the volumes both modes share. */}}
{{- define "purser.env" -}}
- name: KUBECONFIG
  value: /etc/purser/kube/kubeconfig
- name: HOME
  value: /tmp
{{- if and (include "purser.usesStore" .) (eq .Values.store.type "postgres") }}
- name: PURSER_STORE
  valueFrom:
    secretKeyRef:
      name: {{ .Values.store.postgres.existingSecret }}
      key: {{ .Values.store.postgres.key }}
{{- end }}
{{- end -}}

{{- define "purser.volumeMounts" -}}
- name: config
  mountPath: /etc/purser/purser.yaml
  subPath: purser.yaml
  readOnly: true
- name: config
  mountPath: /etc/purser/kube/kubeconfig
  subPath: kubeconfig
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- if and (include "purser.usesStore" .) (eq .Values.store.type "sqlite") }}
- name: data
  mountPath: /var/lib/purser
{{- end }}
{{- end -}}

{{- define "purser.volumes" -}}
- name: config
  configMap:
    name: {{ include "purser.fullname" . }}
- name: tmp
  emptyDir: {}
{{- if and (include "purser.usesStore" .) (eq .Values.store.type "sqlite") }}
- name: data
  {{- if .Values.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ include "purser.sqliteClaim" . }}
  {{- else }}
  emptyDir: {}
  {{- end }}
{{- end }}
{{- end -}}

{{- define "purser.podSpecCommon" -}}
serviceAccountName: {{ include "purser.serviceAccountName" . }}
# The mounted kubeconfig reads this token, whatever the ServiceAccount's
# own automount setting.
automountServiceAccountToken: true
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
The API groups the cluster serves beyond Kubernetes' own, as helm install
sees them (helm template sees only those given with --api-versions): the
groups of custom resources and aggregated APIs. Space-separated, sorted.
*/}}
{{- define "purser.customResourceGroups" -}}
{{- $builtin := list "apps" "batch" "autoscaling" "policy" "extensions" "events.k8s.io" "discovery.k8s.io" "networking.k8s.io" "rbac.authorization.k8s.io" "storage.k8s.io" "apiextensions.k8s.io" "resource.k8s.io" "authentication.k8s.io" "authorization.k8s.io" "certificates.k8s.io" "coordination.k8s.io" "flowcontrol.apiserver.k8s.io" "admissionregistration.k8s.io" "apiregistration.k8s.io" "node.k8s.io" "scheduling.k8s.io" "internal.apiserver.k8s.io" "storagemigration.k8s.io" "lifecycle.k8s.io" "metrics.k8s.io" -}}
{{- $groups := list -}}
{{- range .Capabilities.APIVersions -}}
{{- $parts := splitList "/" . -}}
{{- /* "group/version" names a group; "v1/Pod" (a core kind) and "group/version/Kind" do not. */ -}}
{{- if and (eq (len $parts) 2) (regexMatch "^v[0-9]" (last $parts)) -}}
{{- $group := first $parts -}}
{{- if not (has $group $builtin) -}}
{{- $groups = append $groups $group -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $groups | uniq | sortAlpha | join " " -}}
{{- end -}}
