{{/*
Named templates shared by the manifests. The chart keeps to the part of Helm that
tests/deploy/helm-render implements (see the comment at the top of its main.go).
*/}}

{{/* Chart name, or nameOverride. */}}
{{- define "tickstream.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* "<release>-<chart>" (or just the release when it already contains the chart name), at most
63 characters less room for the longest component suffix ("-ingest"). */}}
{{- define "tickstream.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 55 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 55 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 55 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "tickstream.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "tickstream.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tickstream
{{- end -}}

{{/* Selector labels of one component; call with (dict "root" $ "component" "edge"). */}}
{{- define "tickstream.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tickstream.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The Tickstream image reference. */}}
{{- define "tickstream.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Name of the Secret holding keys: the user's existing one, or the chart's. */}}
{{- define "tickstream.secretName" -}}
{{- default (printf "%s-secrets" (include "tickstream.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* Redis host for the binaries: the in-chart Service, or the external URL's or host value. */}}
{{- define "tickstream.redisHost" -}}
{{- if .Values.redis.enabled -}}
{{- printf "%s-redis" (include "tickstream.fullname" .) -}}
{{- else if .Values.redis.external.url -}}
{{- $u := urlParse .Values.redis.external.url -}}
{{- if not (has $u.scheme (list "redis" "rediss")) -}}
{{- fail "redis.external.url must look like redis://host:port or rediss://host:port" -}}
{{- end -}}
{{- if $u.userinfo -}}
{{- fail "redis.external.url must not carry a password: set secrets.redisPassword (or the existing Secret's redis-password)" -}}
{{- end -}}
{{- $u.hostname -}}
{{- else -}}
{{- required "redis.external.host (or redis.external.url) is required when redis.enabled is false" .Values.redis.external.host -}}
{{- end -}}
{{- end -}}

{{/* Redis port for the binaries. */}}
{{- define "tickstream.redisPort" -}}
{{- if .Values.redis.enabled -}}
6379
{{- else if .Values.redis.external.url -}}
{{- $u := urlParse .Values.redis.external.url -}}
{{- $parts := splitList ":" $u.host -}}
{{- if eq (len $parts) 2 -}}{{ last $parts }}{{- else -}}6379{{- end -}}
{{- else -}}
{{- .Values.redis.external.port | int -}}
{{- end -}}
{{- end -}}

{{/* Whether the chart's Secret holds anything (an empty Secret is not created). */}}
{{- define "tickstream.secretHasData" -}}
{{- $s := .Values.secrets -}}
{{- if or $s.redisPassword $s.redisSentinelPassword $s.jwtHsSecret $s.jwtPublicKey $s.alpacaKey $s.alpacaSecret $s.finnhubUrl $s.webhookSecret -}}true{{- end -}}
{{- end -}}

{{/* One env entry read from the Secret, skipped by the kubelet when the key is absent; call with
(dict "root" $ "env" "TS_X" "key" "x"). Empty unless the Secret can hold the key. */}}
{{- define "tickstream.secretEnv" -}}
{{- if or .root.Values.secrets.existingSecret (include "tickstream.secretHasData" .root) -}}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ include "tickstream.secretName" .root }}
      key: {{ .key }}
      optional: true
{{- end -}}
{{- end -}}

{{/* terminationGracePeriodSeconds of an edge pod: preStop sleep + drain + close grace (rounded
up to whole seconds) + margin, so the kubelet's SIGKILL never lands inside a drain. */}}
{{- define "tickstream.edge.terminationGracePeriodSeconds" -}}
{{- $e := .Values.edge -}}
{{- $drainAndCloseMs := add (int $e.drainMs) (int $e.shutdownGraceMs) -}}
{{- add (int $e.preStopSleepSeconds) (div (add $drainAndCloseMs 999) 1000) (int $e.terminationMarginSeconds) -}}
{{- end -}}

{{/* Autoscaler behavior of the edge: scale-down one pod at a time, after a calm window, because
each removed edge disconnects (and so reconnects) its clients. */}}
{{- define "tickstream.edge.scaleDownBehavior" -}}
scaleDown:
  stabilizationWindowSeconds: {{ .Values.edge.autoscaling.scaleDown.stabilizationWindowSeconds | int }}
  policies:
    - type: Pods
      value: {{ .Values.edge.autoscaling.scaleDown.podsPerMinute | int }}
      periodSeconds: 60
{{- end -}}

{{/* The container port name serving /metrics, /healthz and /readyz of a component: "ops" with
the internal ops listener, else the edge's client port or ingest's metrics port; call with
(dict "root" $ "component" "edge"). */}}
{{- define "tickstream.probePort" -}}
{{- if .root.Values.ops.enabled -}}ops{{- else if eq .component "edge" -}}http{{- else -}}metrics{{- end -}}
{{- end -}}

{{/* Its number. */}}
{{- define "tickstream.probePortNumber" -}}
{{- if .root.Values.ops.enabled -}}{{ .root.Values.ops.port | int }}{{- else if eq .component "edge" -}}{{ .root.Values.edge.port | int }}{{- else -}}{{ .root.Values.ingest.metricsPort | int }}{{- end -}}
{{- end -}}

{{/* "true" when the edge authenticates clients (JWTs or session cookies, from values or extraArgs). */}}
{{- define "tickstream.edge.authConfigured" -}}
{{- $e := .Values.edge -}}
{{- if or $e.jwt.algorithms $e.sessionCookie (has "--jwt-algorithms" $e.extraArgs) (has "--session-cookie" $e.extraArgs) -}}true{{- end -}}
{{- end -}}

{{/* The WebSocket settings of the Ingress for ingress.controller, as YAML annotations. */}}
{{- define "tickstream.ingress.controllerAnnotations" -}}
{{- $i := .Values.ingress -}}
{{- $timeout := $i.timeoutSeconds | int | toString -}}
{{- if eq $i.controller "nginx" -}}
nginx.ingress.kubernetes.io/proxy-read-timeout: {{ $timeout | quote }}
nginx.ingress.kubernetes.io/proxy-send-timeout: {{ $timeout | quote }}
{{- else if eq $i.controller "alb" -}}
alb.ingress.kubernetes.io/target-type: ip
alb.ingress.kubernetes.io/load-balancer-attributes: {{ printf "idle_timeout.timeout_seconds=%s" $timeout | quote }}
alb.ingress.kubernetes.io/target-group-attributes: {{ printf "deregistration_delay.timeout_seconds=%s,stickiness.enabled=false" (include "tickstream.edge.terminationGracePeriodSeconds" .) | quote }}
alb.ingress.kubernetes.io/healthcheck-path: /readyz
alb.ingress.kubernetes.io/healthcheck-port: {{ include "tickstream.probePortNumber" (dict "root" . "component" "edge") | quote }}
alb.ingress.kubernetes.io/success-codes: "200"
{{- else if eq $i.controller "gce" -}}
kubernetes.io/ingress.class: gce
{{- end -}}
{{- end -}}

{{/* "true" when the binaries reach Redis over TLS: an external Redis with tls.enabled or a rediss:// url. */}}
{{- define "tickstream.redisTls" -}}
{{- $x := .Values.redis.external -}}
{{- if and (not .Values.redis.enabled) (or $x.tls.enabled (hasPrefix "rediss://" $x.url)) -}}true{{- else -}}false{{- end -}}
{{- end -}}

{{/* "true" when the binaries use the master of external sentinels (redis.external.sentinel). */}}
{{- define "tickstream.redisSentinel" -}}
{{- if and (not .Values.redis.enabled) .Values.redis.external.sentinel.hosts -}}true{{- else -}}false{{- end -}}
{{- end -}}

{{/* "true" when the binaries use an external Redis Cluster (redis.external.cluster). */}}
{{- define "tickstream.redisCluster" -}}
{{- if and (not .Values.redis.enabled) .Values.redis.external.cluster.nodes -}}true{{- else -}}false{{- end -}}
{{- end -}}

{{/* "true" when TS_REDIS_URL says where Redis is (sentinels or cluster nodes), so no TS_REDIS_HOST/PORT. */}}
{{- define "tickstream.redisByUrl" -}}
{{- if and (eq (include "tickstream.redisSentinel" .) "true") (eq (include "tickstream.redisCluster" .) "true") -}}
{{- fail "redis.external.sentinel.hosts and redis.external.cluster.nodes exclude each other: a Redis Cluster has no sentinels" -}}
{{- end -}}
{{- if or (eq (include "tickstream.redisSentinel" .) "true") (eq (include "tickstream.redisCluster" .) "true") -}}true{{- else -}}false{{- end -}}
{{- end -}}

{{/* The Redis access settings after TS_REDIS_HOST/PORT in a ConfigMap: ACL user and TLS (files in the mounted Secret), or the URL of the sentinels or the cluster's nodes (passwords from the Secret). */}}
{{- define "tickstream.redisAccessEnv" -}}
{{- $x := .Values.redis.external -}}
{{- $_ := include "tickstream.redisByUrl" . }}
{{- if eq (include "tickstream.redisSentinel" .) "true" }}
{{- $scheme := ternary "rediss+sentinel" "redis+sentinel" (eq (include "tickstream.redisTls" .) "true") }}
TS_REDIS_URL: {{ printf "%s://%s/%s" $scheme (join "," $x.sentinel.hosts) (required "redis.external.sentinel.masterName is required with redis.external.sentinel.hosts" $x.sentinel.masterName) | quote }}
{{- else if eq (include "tickstream.redisCluster" .) "true" }}
{{- $scheme := ternary "rediss+cluster" "redis+cluster" (eq (include "tickstream.redisTls" .) "true") }}
TS_REDIS_URL: {{ printf "%s://%s" $scheme (join "," $x.cluster.nodes) | quote }}
{{- end }}
{{- if and (not .Values.redis.enabled) $x.user }}
TS_REDIS_USER: {{ $x.user | quote }}
{{- end }}
{{- if eq (include "tickstream.redisTls" .) "true" }}
TS_REDIS_TLS: "true"
{{- with $x.tls.serverName }}
TS_REDIS_TLS_SERVER_NAME: {{ . | quote }}
{{- end }}
{{- if $x.tls.secretName }}
TS_REDIS_TLS_CA_FILE: /etc/tickstream/redis-tls/ca.crt
{{- if $x.tls.clientCertificate }}
TS_REDIS_TLS_CERT_FILE: /etc/tickstream/redis-tls/tls.crt
TS_REDIS_TLS_KEY_FILE: /etc/tickstream/redis-tls/tls.key
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The Secret of Redis's CA (and client certificate) to mount, or "". */}}
{{- define "tickstream.redisTlsSecret" -}}
{{- if eq (include "tickstream.redisTls" .) "true" -}}{{ .Values.redis.external.tls.secretName }}{{- end -}}
{{- end -}}
