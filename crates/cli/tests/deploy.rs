//! deploy/ against the code: every YAML file parses, the router's operation limits and CORS
//! origins are the subgraph's defaults, every `CAREMATCH_*` name in the Dockerfile, the compose
//! file and the Kubernetes manifests is a setting the code reads, and docs/operations.md lists
//! exactly the settings the code reads. (The Kubernetes schemas are checked by
//! `kubernetes-validate` in .ci/run.)

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use carematch_cli::config::{Settings, setting_names};
use yaml_rust2::{Yaml, YamlLoader};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repository().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn yaml(path: &str) -> Vec<Yaml> {
    YamlLoader::load_from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn yaml_files(folder: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            // Not ours: packages a developer installed (deploy/ci/gateway).
            if !path.ends_with("node_modules") {
                yaml_files(&path, found);
            }
        } else if path
            .extension()
            .is_some_and(|extension| extension == "yaml" || extension == "yml")
        {
            found.push(path);
        }
    }
}

/// Every `CAREMATCH_[A-Z0-9_]+` in `text`.
fn environment_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("CAREMATCH_") {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

fn environment_name(setting: &str) -> String {
    format!("CAREMATCH_{}", setting.to_uppercase())
}

#[test]
fn every_yaml_file_in_deploy_parses() {
    let mut files = Vec::new();
    yaml_files(&repository().join("deploy"), &mut files);
    assert!(files.len() >= 10, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let documents = YamlLoader::load_from_str(&text)
            .unwrap_or_else(|error| panic!("{}: {error}", file.display()));
        assert!(!documents.is_empty(), "{} is empty", file.display());
    }
}

#[test]
fn the_router_refuses_what_the_subgraph_refuses_and_allows_the_same_origins() {
    let defaults = Settings::default();
    let router = &yaml("deploy/router/router.yaml")[0];
    let limit = |key: &str| router["limits"][key].as_i64().unwrap_or(-1);
    assert_eq!(limit("max_depth"), defaults.limits.max_query_depth as i64);
    assert_eq!(limit("max_aliases"), defaults.limits.max_aliases as i64);
    assert_eq!(
        limit("max_root_fields"),
        defaults.limits.max_root_fields as i64
    );
    assert_eq!(
        limit("http_max_request_bytes"),
        defaults.limits.max_request_body_bytes as i64
    );
    let origins: Vec<&str> = router["cors"]["origins"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|origin| origin.as_str().unwrap())
        .collect();
    assert_eq!(origins, defaults.server.cors_allowed_origins);
    assert_eq!(router["cors"]["allow_any_origin"].as_bool(), Some(false));
    // JWT pass-through: the subgraph checks tokens itself.
    let propagated: Vec<&str> = router["headers"]["all"]["request"]
        .as_vec()
        .unwrap()
        .iter()
        .filter_map(|rule| rule["propagate"]["named"].as_str())
        .collect();
    for header in ["authorization", "x-request-id", "traceparent"] {
        assert!(propagated.contains(&header), "{header} is not propagated");
    }
    // The router's introspection follows the production setting.
    assert_eq!(router["supergraph"]["introspection"].as_bool(), Some(false));
    let supergraph = &yaml("deploy/router/supergraph.yaml")[0];
    assert_eq!(
        supergraph["subgraphs"]["carematch"]["schema"]["file"].as_str(),
        Some("../../schema.graphql")
    );
}

#[test]
fn deploy_files_set_only_settings_the_code_reads() {
    let known: BTreeSet<String> = setting_names()
        .iter()
        .map(|name| environment_name(name))
        .collect();
    let mut files = vec![
        repository().join("deploy/Dockerfile"),
        repository().join("deploy/compose.yaml"),
    ];
    yaml_files(&repository().join("deploy/k8s"), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for name in environment_names(&text) {
            assert!(
                known.contains(&name),
                "{} sets {name}, which carematch does not read",
                file.display()
            );
        }
    }
    let dockerfile = read("deploy/Dockerfile");
    assert!(dockerfile.contains("USER 65532"));
    assert!(dockerfile.contains("HEALTHCHECK"));
}

#[test]
fn the_kubernetes_deployment_probes_health_and_readiness_and_migrations_run_in_a_job() {
    let deployment = &yaml("deploy/k8s/deployment.yaml")[0];
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["livenessProbe"]["httpGet"]["path"].as_str(),
        Some("/healthz")
    );
    assert_eq!(
        container["startupProbe"]["httpGet"]["path"].as_str(),
        Some("/healthz")
    );
    assert_eq!(
        container["readinessProbe"]["httpGet"]["path"].as_str(),
        Some("/readyz")
    );
    let args: Vec<&str> = container["args"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|arg| arg.as_str().unwrap())
        .collect();
    assert_eq!(args, ["serve", "--no-migrate"]);
    let job = &yaml("deploy/k8s/migration-job.yaml")[0];
    assert_eq!(
        job["spec"]["template"]["spec"]["containers"][0]["args"][0].as_str(),
        Some("migrate")
    );
    // The pod's grace period covers the pre-stop delay and the shutdown grace period.
    let configmap = &yaml("deploy/k8s/configmap.yaml")[0];
    let seconds = |key: &str| {
        configmap["data"][key]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .unwrap()
    };
    let termination = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        .as_i64()
        .unwrap();
    assert!(
        termination
            > seconds("CAREMATCH_SHUTDOWN_DELAY_SECONDS")
                + seconds("CAREMATCH_SHUTDOWN_GRACE_SECONDS")
    );
}

/// The setting keys of the configuration table in docs/operations.md: rows whose second column
/// is a `key`.
fn documented_settings(markdown: &str) -> Vec<(String, String)> {
    let section = markdown
        .split("<!-- settings-table -->")
        .nth(1)
        .expect("docs/operations.md marks its settings table");
    section
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let environment = cells.get(1)?.trim_matches('`');
            let key = cells.get(2)?.trim_matches('`');
            (!key.is_empty() && !key.starts_with('-') && key != "key")
                .then(|| (environment.to_owned(), key.to_owned()))
        })
        .collect()
}

#[test]
fn docs_operations_lists_exactly_the_settings_the_code_reads() {
    let documented = documented_settings(&read("docs/operations.md"));
    let documented_keys: BTreeSet<String> = documented.iter().map(|(_, key)| key.clone()).collect();
    let read_by_code: BTreeSet<String> = setting_names().into_iter().collect();
    let missing: Vec<&String> = read_by_code.difference(&documented_keys).collect();
    let extra: Vec<&String> = documented_keys.difference(&read_by_code).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/operations.md lacks {missing:?} and lists {extra:?}, which the code does not read"
    );
    for (environment, key) in documented {
        if key != "ranking" {
            assert_eq!(environment, environment_name(&key), "row of {key}");
        }
    }
}

/// The `CAREMATCH_*` entries of a YAML mapping, as (name, value).
fn environment_entries(mapping: &Yaml) -> Vec<(String, String)> {
    mapping
        .as_hash()
        .unwrap()
        .iter()
        .filter_map(|(name, value)| {
            let name = name.as_str()?;
            let value = value
                .as_str()
                .map(str::to_owned)
                .or_else(|| value.as_i64().map(|number| number.to_string()))?;
            name.starts_with("CAREMATCH_")
                .then(|| (name.to_owned(), value))
        })
        .collect()
}

/// Start-up validation of exactly these environment variables (no file, nothing inherited).
// figment's Jail takes a closure returning its own (large) error type.
#[allow(clippy::result_large_err)]
fn start_up_with(environment: &[(String, String)]) -> Result<(), String> {
    let mut outcome = Ok(());
    figment::Jail::expect_with(|jail| {
        jail.clear_env();
        for (name, value) in environment {
            jail.set_env(name, value);
        }
        outcome = carematch_cli::config::Config::load(None)
            .map(|_| ())
            .map_err(|error| error.to_string());
        Ok(())
    });
    outcome
}

#[test]
fn the_example_secret_of_deploy_k8s_is_refused_at_start_up_naming_each_setting() {
    let secret = &yaml("deploy/k8s/secret.yaml")[0];
    let placeholders = environment_entries(&secret["stringData"]);
    let real_values: Vec<(String, String)> = placeholders
        .iter()
        .map(|(name, value)| {
            (
                name.clone(),
                value.replace("CHANGE-ME", "s3cr3t-from-the-store"),
            )
        })
        .collect();
    start_up_with(&real_values).expect("the Secret with real values is accepted");
    let mut refused = 0;
    for (index, (name, value)) in placeholders.iter().enumerate() {
        if !value.contains("CHANGE-ME") {
            continue;
        }
        let mut environment = real_values.clone();
        environment[index].1 = value.clone();
        let error = start_up_with(&environment).expect_err(name);
        assert!(
            error.contains(name) && error.contains("CHANGE-ME"),
            "{error}"
        );
        assert!(
            !error.contains(value.as_str()),
            "the error shows the secret: {error}"
        );
        refused += 1;
    }
    assert!(refused >= 3, "the Secret has {refused} placeholders");
}

#[test]
fn the_compose_stack_starts_with_its_own_laptop_secrets() {
    let compose = &yaml("deploy/compose.yaml")[0];
    let environment = environment_entries(&compose["x-carematch-environment"]);
    assert!(
        environment
            .iter()
            .any(|(name, _)| name == "CAREMATCH_ROUTER_SECRET"),
        "{environment:?}"
    );
    start_up_with(&environment).unwrap();
}

fn pod_spec_of(document: &Yaml) -> &Yaml {
    match document["kind"].as_str() {
        Some("CronJob") => &document["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        _ => &document["spec"]["template"]["spec"],
    }
}

#[test]
fn the_hpa_alone_sets_the_replica_count_and_replicas_spread_over_nodes() {
    let deployment = &yaml("deploy/k8s/deployment.yaml")[0];
    assert!(
        deployment["spec"]["replicas"].is_badvalue(),
        "a fixed replica count resets the HPA's on every apply"
    );
    let hpa = &yaml("deploy/k8s/hpa.yaml")[0];
    assert_eq!(
        hpa["spec"]["scaleTargetRef"]["name"],
        deployment["metadata"]["name"]
    );
    assert!(hpa["spec"]["minReplicas"].as_i64().unwrap() >= 2);
    let spread = pod_spec_of(deployment)["topologySpreadConstraints"]
        .as_vec()
        .unwrap();
    let hostname = spread
        .iter()
        .find(|rule| rule["topologyKey"].as_str() == Some("kubernetes.io/hostname"))
        .expect("a spread over nodes");
    assert_eq!(
        hostname["whenUnsatisfiable"].as_str(),
        Some("DoNotSchedule")
    );
    assert_eq!(
        hostname["labelSelector"]["matchLabels"],
        deployment["spec"]["selector"]["matchLabels"]
    );
}

#[test]
fn every_pod_runs_one_image_version_and_the_migration_job_is_named_after_it() {
    let version = env!("CARGO_PKG_VERSION");
    let mut pods = 0;
    let mut files = Vec::new();
    yaml_files(&repository().join("deploy/k8s"), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for document in YamlLoader::load_from_str(&text).unwrap() {
            let pod = pod_spec_of(&document);
            let Some(containers) = pod["containers"].as_vec() else {
                continue;
            };
            pods += 1;
            assert_eq!(
                containers[0]["image"].as_str(),
                Some(format!("carematch:{version}").as_str()),
                "{}",
                file.display()
            );
            // carematch never calls the Kubernetes API.
            assert_eq!(pod["automountServiceAccountToken"].as_bool(), Some(false));
        }
    }
    assert_eq!(
        pods, 3,
        "the Deployment, the migration Job and the prune CronJob"
    );
    // A Job's template is immutable: a new image needs a new Job name.
    let job = &yaml("deploy/k8s/migration-job.yaml")[0];
    assert_eq!(
        job["metadata"]["name"].as_str(),
        Some(format!("carematch-migrate-{}", version.replace('.', "-")).as_str())
    );
}

#[test]
fn match_logs_are_pruned_daily_by_a_cronjob() {
    let cronjob = &yaml("deploy/k8s/logs-prune-cronjob.yaml")[0];
    assert_eq!(cronjob["kind"].as_str(), Some("CronJob"));
    let schedule = cronjob["spec"]["schedule"].as_str().unwrap();
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    assert_eq!(fields[2..], ["*", "*", "*"], "once a day: {schedule}");
    assert_eq!(
        cronjob["spec"]["concurrencyPolicy"].as_str(),
        Some("Forbid")
    );
    let args: Vec<&str> = pod_spec_of(cronjob)["containers"][0]["args"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|arg| arg.as_str().unwrap())
        .collect();
    assert_eq!(args, ["logs", "prune"]);
}

#[test]
fn only_the_router_and_prometheus_reach_the_replicas() {
    let deployment = &yaml("deploy/k8s/deployment.yaml")[0];
    let policies = yaml("deploy/k8s/networkpolicy.yaml");
    let replicas = policies
        .iter()
        .find(|policy| {
            policy["spec"]["podSelector"]["matchLabels"]
                == deployment["spec"]["selector"]["matchLabels"]
        })
        .expect("a NetworkPolicy selecting the replicas");
    let ingress = replicas["spec"]["ingress"].as_vec().unwrap();
    assert_eq!(ingress.len(), 1, "one rule: the router and Prometheus");
    let sources = ingress[0]["from"].as_vec().unwrap();
    assert_eq!(sources.len(), 2, "{sources:?}");
    assert_eq!(
        sources[0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"].as_str(),
        Some("router")
    );
    let types: Vec<&str> = replicas["spec"]["policyTypes"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|kind| kind.as_str().unwrap())
        .collect();
    assert_eq!(types, ["Ingress", "Egress"]);
}

#[test]
fn the_prometheus_rule_holds_exactly_the_plain_alert_rules() {
    let plain = &yaml("deploy/prometheus/alerts.yaml")[0];
    let operator = &yaml("deploy/k8s/monitoring/prometheusrule.yaml")[0];
    assert_eq!(operator["kind"].as_str(), Some("PrometheusRule"));
    assert!(
        plain["groups"] == operator["spec"]["groups"],
        "deploy/k8s/monitoring/prometheusrule.yaml differs from deploy/prometheus/alerts.yaml: \
         copy the groups over"
    );
    let monitor = &yaml("deploy/k8s/monitoring/podmonitor.yaml")[0];
    let deployment = &yaml("deploy/k8s/deployment.yaml")[0];
    assert_eq!(
        monitor["spec"]["selector"]["matchLabels"],
        deployment["spec"]["selector"]["matchLabels"]
    );
    assert_eq!(
        monitor["spec"]["podMetricsEndpoints"][0]["path"].as_str(),
        Some("/metrics")
    );
}
