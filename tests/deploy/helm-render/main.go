// helm-render renders a Helm chart's templates as `helm template` does, for the part of Helm that
// helm/tickstream uses, so CI can check the chart's manifests on a machine without Helm or a cluster.
//
//	helm-render --chart helm/tickstream [--values override.yaml]... [--release NAME] [--namespace NS]
//
// What it implements, following Helm 3's engine (pkg/engine) and values code (pkg/chartutil):
//   - .Values: the chart's values.yaml, then each --values file coalesced over it (maps merge
//     key by key, anything else replaces, null deletes). Numbers become float64, as Helm's
//     YAML-through-JSON parsing makes them, so `{{ .Values.big }}` misprints here as it does there.
//   - .Release (Name, Namespace, Service, IsInstall, IsUpgrade, Revision), .Chart (from
//     Chart.yaml: Name, Version, AppVersion, Description, Type, APIVersion), .Template (Name,
//     BasePath), .Capabilities.KubeVersion.
//   - Functions: sprig's text functions without env/expandenv, plus Helm's include, tpl,
//     required, toYaml, fromYaml, toJson, fromJson and lookup (always empty, as in `helm template`).
//   - values.schema.json, when the chart has one: the coalesced values are validated against it
//     before rendering, with the same library (gojsonschema) and the same message as Helm 3's
//     chartutil.ValidateAgainstSchema, so bad values are refused as `helm install` refuses them.
//   - Templates are named <chart>/templates/<path>; files starting with "_" only define templates;
//     NOTES.txt is executed (so its errors count) but not printed; --notes FILE writes it, as
//     `helm install` prints it. Missing keys render as "".
//
// Not implemented (the chart must not use them): subcharts and dependencies, .Files, --set,
// hooks' ordering, .Capabilities.APIVersions. Output: each non-empty manifest file as
// "---\n# Source: <name>\n<text>", in file name order.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"github.com/xeipuuv/gojsonschema"
	"sigs.k8s.io/yaml"
)

type valueFiles []string

func (v *valueFiles) String() string     { return strings.Join(*v, ",") }
func (v *valueFiles) Set(s string) error { *v = append(*v, s); return nil }

// maxIncludeDepth stops a template that includes itself, as Helm's engine does.
const maxIncludeDepth = 1000

func main() {
	chartDir := flag.String("chart", "", "chart directory (holds Chart.yaml, values.yaml, templates/)")
	release := flag.String("release", "tickstream", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	var overrides valueFiles
	flag.Var(&overrides, "values", "values file coalesced over the chart's values.yaml (repeatable)")
	notesFile := flag.String("notes", "", "write the rendered NOTES.txt to this file")
	flag.Parse()
	if *chartDir == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: helm-render --chart DIR [--values FILE]... [--release NAME] [--namespace NS] [--notes FILE]")
		os.Exit(2)
	}
	out, notes, err := render(*chartDir, overrides, *release, *namespace)
	if err != nil {
		fmt.Fprintf(os.Stderr, "helm-render: %v\n", err)
		os.Exit(1)
	}
	if *notesFile != "" {
		if err := os.WriteFile(*notesFile, []byte(notes), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "helm-render: %v\n", err)
			os.Exit(1)
		}
	}
	os.Stdout.WriteString(out)
}

// readYAMLMap parses a YAML file into a map the way Helm does (through JSON: numbers are float64).
func readYAMLMap(path string) (map[string]interface{}, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if m == nil {
		m = map[string]interface{}{}
	}
	return m, nil
}

// coalesce merges src over dst as Helm merges user values over chart defaults: nested maps merge,
// other values replace, and a null in src removes the key.
func coalesce(dst, src map[string]interface{}) {
	for k, sv := range src {
		if sv == nil {
			delete(dst, k)
			continue
		}
		sm, sIsMap := sv.(map[string]interface{})
		dm, dIsMap := dst[k].(map[string]interface{})
		if sIsMap && dIsMap {
			coalesce(dm, sm)
			continue
		}
		dst[k] = sv
	}
}

func chartMetadata(chartDir string) (map[string]interface{}, string, error) {
	raw, err := readYAMLMap(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return nil, "", err
	}
	str := func(k string) string { s, _ := raw[k].(string); return s }
	name := str("name")
	if name == "" {
		return nil, "", errors.New("Chart.yaml: name is required")
	}
	if str("apiVersion") != "v2" {
		return nil, "", errors.New("Chart.yaml: apiVersion must be v2")
	}
	if _, ok := raw["dependencies"]; ok {
		return nil, "", errors.New("Chart.yaml: dependencies are not supported by this renderer")
	}
	return map[string]interface{}{
		"Name": name, "Version": str("version"), "AppVersion": str("appVersion"),
		"Description": str("description"), "Type": str("type"), "APIVersion": str("apiVersion"),
	}, name, nil
}

func toYAML(v interface{}) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}

func fromYAML(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func toJSON(v interface{}) string {
	data, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(data)
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

// funcMap builds Helm's function set around the template set t (include and tpl need it).
func funcMap(t **template.Template) template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	depth := 0
	f["include"] = func(name string, data interface{}) (string, error) {
		if depth++; depth > maxIncludeDepth {
			return "", fmt.Errorf("include %q: nested too deeply", name)
		}
		defer func() { depth-- }()
		var buf bytes.Buffer
		if err := (*t).ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	f["tpl"] = func(text string, data interface{}) (string, error) {
		clone, err := (*t).Clone()
		if err != nil {
			return "", err
		}
		parsed, err := clone.New("tpl").Parse(text)
		if err != nil {
			return "", fmt.Errorf("tpl: %v", err)
		}
		var buf bytes.Buffer
		if err := parsed.Execute(&buf, data); err != nil {
			return "", fmt.Errorf("tpl: %v", err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	f["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return v, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return v, errors.New(msg)
		}
		return v, nil
	}
	f["toYaml"] = toYAML
	f["fromYaml"] = fromYAML
	f["toJson"] = toJSON
	f["fromJson"] = fromJSON
	f["lookup"] = func(string, string, string, string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	return f
}

// validateValues checks the coalesced values against the chart's values.schema.json, if any, as
// Helm 3 does (pkg/chartutil/jsonschema.go): values through YAML to JSON, gojsonschema, one
// "- <field>: <problem>" line per error under the chart's name.
func validateValues(chartDir, chartName string, values map[string]interface{}) error {
	schema, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	data, err := yaml.Marshal(values)
	if err != nil {
		return err
	}
	valuesJSON, err := yaml.YAMLToJSON(data)
	if err != nil {
		return err
	}
	if bytes.Equal(valuesJSON, []byte("null")) {
		valuesJSON = []byte("{}")
	}
	result, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(schema), gojsonschema.NewBytesLoader(valuesJSON))
	if err != nil {
		return fmt.Errorf("values.schema.json: %v", err)
	}
	if result.Valid() {
		return nil
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "values don't meet the specifications of the schema(s) in the following chart(s):\n%s:\n", chartName)
	for _, e := range result.Errors() {
		fmt.Fprintf(&sb, "- %s\n", e)
	}
	return errors.New(sb.String())
}

func render(chartDir string, overrides []string, release, namespace string) (string, string, error) {
	chart, chartName, err := chartMetadata(chartDir)
	if err != nil {
		return "", "", err
	}
	values, err := readYAMLMap(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return "", "", err
	}
	for _, o := range overrides {
		ov, err := readYAMLMap(o)
		if err != nil {
			return "", "", err
		}
		coalesce(values, ov)
	}
	if err := validateValues(chartDir, chartName, values); err != nil {
		return "", "", err
	}

	templatesDir := filepath.Join(chartDir, "templates")
	var names []string
	sources := map[string]string{}
	err = filepath.WalkDir(templatesDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(templatesDir, path)
		name := chartName + "/templates/" + filepath.ToSlash(rel)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		names = append(names, name)
		sources[name] = string(data)
		return nil
	})
	if err != nil {
		return "", "", err
	}
	sort.Strings(names)

	var t *template.Template
	t = template.New("gotpl").Option("missingkey=zero").Funcs(funcMap(&t))
	for _, name := range names {
		if _, err := t.New(name).Parse(sources[name]); err != nil {
			return "", "", err
		}
	}

	top := map[string]interface{}{
		"Values": values,
		"Chart":  chart,
		"Release": map[string]interface{}{
			"Name": release, "Namespace": namespace, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{"Version": "v1.29.0", "Major": "1", "Minor": "29"},
		},
	}
	var out strings.Builder
	notes := ""
	for _, name := range names {
		base := filepath.Base(name)
		if strings.HasPrefix(base, "_") {
			continue
		}
		data := map[string]interface{}{}
		for k, v := range top {
			data[k] = v
		}
		data["Template"] = map[string]interface{}{"Name": name, "BasePath": chartName + "/templates"}
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, name, data); err != nil {
			return "", "", err
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if base == "NOTES.txt" {
			notes = text
			continue
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", name, strings.TrimRight(text, "\n"))
	}
	return out.String(), notes, nil
}
