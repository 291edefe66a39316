{{/* The release's name for its objects, cut to Kubernetes' 63 characters. */}}
{{- define "flywheel.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* One service's objects: <fullname>-<service>. Needs (dict "root" $ "name" $name). */}}
{{- define "flywheel.serviceName" -}}
{{- printf "%s-%s" (include "flywheel.fullname" .root | trunc 50 | trimSuffix "-") .name -}}
{{- end -}}

{{- define "flywheel.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: flywheel
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: flywheel
{{- end -}}

{{/* Labels of one service's objects. Needs (dict "root" $ "name" $name). */}}
{{- define "flywheel.serviceLabels" -}}
{{ include "flywheel.labels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* What selects one service's pods; never changes across upgrades. */}}
{{- define "flywheel.selectorLabels" -}}
app.kubernetes.io/name: flywheel
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "flywheel.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "flywheel.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "flywheel.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* host:port of redis.url, which may start with redis://. */}}
{{- define "flywheel.redisEndpoint" -}}
{{- .Values.redis.url | trimPrefix "redis://" | trimSuffix "/" -}}
{{- end -}}

{{/* The librdkafka properties every client gets: the user's, then TLS and SASL. */}}
{{- define "flywheel.kafkaClient" -}}
{{- $p := deepCopy .Values.kafka.properties -}}
{{- $tls := .Values.kafka.tls.enabled -}}
{{- $sasl := .Values.kafka.sasl.enabled -}}
{{- if and $tls $sasl }}{{- $_ := set $p "security.protocol" "SASL_SSL" -}}
{{- else if $tls }}{{- $_ := set $p "security.protocol" "SSL" -}}
{{- else if $sasl }}{{- $_ := set $p "security.protocol" "SASL_PLAINTEXT" -}}
{{- end -}}
{{- if $tls -}}
{{- $_ := set $p "ssl.ca.location" "/etc/flywheel/kafka-ca/ca.crt" -}}
{{- if .Values.kafka.tls.clientSecret -}}
{{- $_ := set $p "ssl.certificate.location" "/etc/flywheel/kafka-client/tls.crt" -}}
{{- $_ := set $p "ssl.key.location" "/etc/flywheel/kafka-client/tls.key" -}}
{{- end -}}
{{- end -}}
{{- if $sasl -}}
{{- $_ := set $p "sasl.mechanism" .Values.kafka.sasl.mechanism -}}
{{- $_ := set $p "sasl.username" .Values.kafka.sasl.username -}}
{{- end -}}
{{- toYaml $p -}}
{{- end -}}

{{/*
A service's config file: what every service shares, then the service's
own keys, then the chart's (ports, files it mounts), which win.
Needs (dict "root" $ "name" $name "service" $service).
*/}}
{{- define "flywheel.config" -}}
{{- $v := .root.Values -}}
{{- $own := dict
  "grpc" (dict "listen" "0.0.0.0:8080")
  "metrics" (dict "listen" "0.0.0.0:9464")
  "kafka" (dict "bootstrap_servers" $v.kafka.brokers "topic_prefix" $v.kafka.topicPrefix
                "client" (include "flywheel.kafkaClient" .root | fromYaml))
  "redis" (dict "endpoint" (include "flywheel.redisEndpoint" .root) "key_prefix" $v.redis.keyPrefix)
  "auth" (dict "issuer" $v.auth.issuer "audience" $v.auth.audience
               "key_file" "/etc/flywheel/auth-keys/jwks.json"
               "policy_file" "/etc/flywheel/config/auth.yaml") -}}
{{- if $v.kafka.sasl.enabled -}}
{{- $_ := set $own.kafka "sasl" (dict "password_file" "/etc/flywheel/kafka-sasl/password") -}}
{{- end -}}
{{- if $v.redis.username -}}{{- $_ := set $own.redis "username" $v.redis.username -}}{{- end -}}
{{- if $v.redis.passwordSecret.name -}}
{{- $_ := set $own.redis "password_file" "/etc/flywheel/redis/password" -}}
{{- end -}}
{{- if $v.grpcTls.enabled -}}
{{- $tls := dict "cert_file" "/etc/flywheel/grpc-tls/tls.crt" "key_file" "/etc/flywheel/grpc-tls/tls.key" -}}
{{- if $v.grpcTls.clientCaKey -}}{{- $_ := set $tls "client_ca_file" "/etc/flywheel/grpc-tls/client-ca.crt" -}}{{- end -}}
{{- $_ := set $own.grpc "tls" $tls -}}
{{- end -}}
{{- $section := dict -}}
{{- if .service.policy -}}{{- $_ := set $section "policy_file" "/etc/flywheel/config/policy.yaml" -}}{{- end -}}
{{- if and (eq .name "scheduler") .service.feeds.enabled -}}
{{- $_ := set $section "feeds" (dict "listen" (printf "0.0.0.0:%v" .service.feeds.port) "secret_file" "/etc/flywheel/feeds/secret") -}}
{{- end -}}
{{- /* Config sections are the service name with "_" for "-" (lead_scoring). */ -}}
{{- if $section -}}{{- $_ := set $own (.name | replace "-" "_") $section -}}{{- end -}}
{{- $merged := mergeOverwrite (deepCopy $v.config) (deepCopy .service.config) $own -}}
{{- toYaml $merged -}}
{{- end -}}
