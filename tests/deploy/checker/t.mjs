import { validate } from "./k8s.mjs";
const d = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x", labelz: {} }, spec: { selector: {matchLabels: {a: "b"}}, template: { metadata: {labels: {a: "b"}}, spec: { terminationGracePeriodSecond: 3, containers: [{ name: "c", image: "i", readinessProbes: {}, livenessProbe: {httpGet: {path: "/x", port: "http", bogus: 1}}, resources: {limits: {cpu: "1"}}, ports: [{containerPort: 80}] }] } } } };
console.log(await validate(d));
console.log(await validate({apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject", metadata: {name: "x"}, spec: {scaleTargetRef: {name: "x"}, triggers: [{type: "cpu", metadata: {value: "1"}, bogus: 1}], advanced: {horizontalPodAutoscalerConfig: {behavior: {scaleDown: {policies: [{type: "Pods", value: 1, periodSeconds: 60, x: 1}]}}}}}}));
console.log(await validate({apiVersion: "autoscaling/v2beta1", kind: "HorizontalPodAutoscaler", metadata: {name: "x"}}));
console.log(await validate({apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor", metadata: {name: "x"}, spec: {selector: {}, endpoints: [{port: "http", pathh: "/m"}]}}));
console.log(await validate({apiVersion: "v1", kind: "Service", metadata: {name: "x"}, spec: {ports: [{port: 80, targetPort: "http"}], selectr: {}}}));
