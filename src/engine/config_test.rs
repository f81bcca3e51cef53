use super::*;

fn parse(pairs: &[(&str, &str)]) -> Result<RunConfig, ConfigErrors> {
    RunConfig::from_fields(pairs.iter().copied())
}

fn only_message(pairs: &[(&str, &str)]) -> String {
    let errors = parse(pairs).unwrap_err();
    assert_eq!(errors.0.len(), 1, "{errors}");
    errors.0[0].message.clone()
}

#[test]
fn defaults_are_valid_and_round_trip_through_text() {
    let default = RunConfig::default();
    default.validate().unwrap();
    assert_eq!(parse(&[]).unwrap(), default);
    let custom = RunConfig {
        pattern: Pattern::RateLimit,
        workload: WorkKind::Sleep,
        cost: 2_500,
        distribution: Distribution::Pareto,
        pacing: Pacing::Ticker,
        rate: 12.5,
        ordered: true,
        timeout_ms: 1500.0,
        seed: 9_007_199_254_740_991,
        ..RunConfig::default()
    };
    let fields = custom.to_fields();
    assert_eq!(
        RunConfig::from_fields(fields.iter().map(|(k, v)| (*k, v.as_str()))).unwrap(),
        custom
    );
}

#[test]
fn cost_defaults_to_the_workloads_own() {
    for w in WORKLOADS {
        let name = serde_json::to_value(w.kind)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(parse(&[("workload", &name)]).unwrap().cost, w.default_cost);
    }
}

#[test]
fn messages_name_field_value_and_range() {
    assert_eq!(
        only_message(&[("workers", "0")]),
        "workers: 0 is out of range; allowed: a whole number 1–256 goroutines"
    );
    assert_eq!(
        only_message(&[("workers", "-3")]),
        "workers: -3 is out of range; allowed: a whole number 1–256 goroutines"
    );
    assert_eq!(
        only_message(&[("workers", "2.5")]),
        "workers: 2.5 is not a whole number; allowed: a whole number 1–256 goroutines"
    );
    assert_eq!(
        only_message(&[("workers", "NaN")]),
        "workers: NaN is not a number; allowed: a whole number 1–256 goroutines"
    );
    assert_eq!(
        only_message(&[("workers", "Infinity")]),
        "workers: Infinity is out of range; allowed: a whole number 1–256 goroutines"
    );
    assert_eq!(
        only_message(&[("jobs", "1e308")]),
        "jobs: 1e308 is out of range; allowed: a whole number 1–10000000 jobs"
    );
    assert_eq!(
        only_message(&[("jobs", "ten")]),
        "jobs: ten is not a number; allowed: a whole number 1–10000000 jobs"
    );
    assert_eq!(
        only_message(&[("jobs", "")]),
        "jobs: (empty) is empty; allowed: a whole number 1–10000000 jobs"
    );
    assert_eq!(
        only_message(&[("failure", "1.5")]),
        "failure: 1.5 is out of range; allowed: 0–1"
    );
    assert_eq!(
        only_message(&[("rate", "0")]),
        "rate: 0 is out of range; allowed: 0.1–100000 jobs/s"
    );
    assert_eq!(
        only_message(&[("pattern", "pipes")]),
        "pattern: pipes is not one of the choices; allowed: pool, fanout, failfast, ratelimit, pipeline"
    );
    assert_eq!(
        only_message(&[("workload", "sha256"), ("cost", "2000000")]),
        "cost: 2000000 is out of range; allowed: a whole number 1–1000000 rounds per job for sha256"
    );
    assert_eq!(
        only_message(&[("ordered", "maybe")]),
        "ordered: maybe is not on or off; allowed: true or false"
    );
    assert!(
        only_message(&[("colour", "red")])
            .starts_with("colour is not a known setting; allowed: pattern, workers,")
    );
}

#[test]
fn long_values_are_shortened_in_messages() {
    let long = "9".repeat(500);
    let message = only_message(&[("jobs", &long)]);
    assert!(
        message.starts_with(&format!("jobs: {}… is out of range", "9".repeat(40))),
        "{message}"
    );
    assert!(message.len() < 150);
}

#[test]
fn every_problem_is_reported_at_once() {
    let errors = parse(&[("workers", "0"), ("jobs", "x"), ("pattern", "?")]).unwrap_err();
    let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, vec!["pattern", "workers", "jobs"]);
}

#[test]
fn total_work_is_capped_so_no_link_can_ask_for_hours() {
    let errors = parse(&[("jobs", "100000"), ("cost", "10000000")]).unwrap_err();
    assert_eq!(errors.0.len(), 1);
    assert_eq!(errors.0[0].field, "cost");
    assert!(
        errors.0[0].message.contains("too much for one run"),
        "{}",
        errors.0[0].message
    );
    // Sleep jobs cost no CPU: not capped.
    parse(&[
        ("workload", "sleep"),
        ("jobs", "100000"),
        ("cost", "10000000"),
    ])
    .unwrap();
}

#[test]
fn the_rust_api_gives_the_same_messages() {
    let bad = RunConfig {
        workers: 0,
        rate: f64::NAN,
        ..RunConfig::default()
    };
    let errors = bad.validate().unwrap_err();
    assert_eq!(
        errors.0[0].message,
        "workers: 0 is out of range; allowed: a whole number 1–256 goroutines"
    );
    assert_eq!(
        errors.0[1].message,
        "rate: NaN is not a number; allowed: 0.1–100000 jobs/s"
    );
}

#[test]
fn schema_lists_every_field_once() {
    let mut names: Vec<&str> = fields().iter().map(|f| f.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), fields().len());
    assert_eq!(RunConfig::default().to_fields().len(), fields().len());
}

/// The TypeScript type tsify generated for `key` in `RunSettings` (`key?: Type;`).
fn ts_type_of(decl: &str, key: &str) -> Option<String> {
    decl.lines()
        .map(str::trim)
        .find_map(|line| line.strip_prefix(&format!("{key}?: ")))
        .map(|rest| rest.trim_end_matches(';').to_owned())
}

/// The string literals of a generated union (`export type X = "a" | "b";`).
fn union_members(decl: &str) -> Vec<String> {
    let body = decl.split_once('=').expect("a type alias").1;
    body.trim()
        .trim_end_matches(';')
        .split('|')
        .map(|m| m.trim().trim_matches('"').to_owned())
        .collect()
}

/// One test that fails when the schema, the parser, link text and the generated
/// TypeScript types disagree on any setting.
#[test]
fn schema_parser_and_generated_types_agree_on_every_field() {
    use crate::settings::Choice;
    use tsify_next::Tsify;
    let unions: [(&str, &str, &[&str]); 8] = [
        ("Arrival", Arrival::DECL, Arrival::NAMES),
        ("Overload", Overload::DECL, Overload::NAMES),
        ("Pattern", Pattern::DECL, Pattern::NAMES),
        ("WorkKind", WorkKind::DECL, WorkKind::NAMES),
        ("Distribution", Distribution::DECL, Distribution::NAMES),
        ("Pacing", Pacing::DECL, Pacing::NAMES),
        ("Scaling", Scaling::DECL, Scaling::NAMES),
        ("ScaleOn", ScaleOn::DECL, ScaleOn::NAMES),
    ];
    let link: Vec<&str> = RunConfig::default()
        .to_fields()
        .iter()
        .map(|(k, _)| *k)
        .collect();
    let schema: Vec<&str> = fields().iter().map(|f| f.name).collect();
    assert_eq!(
        link, schema,
        "link text and schema list the same keys in order"
    );
    for spec in fields() {
        let ts = ts_type_of(RunSettings::DECL, spec.name)
            .unwrap_or_else(|| panic!("RunSettings has no `{}?:`", spec.name));
        match spec.kind {
            FieldKind::Integer { min, max } | FieldKind::Number { min, max } => {
                assert_eq!(ts, "number", "{}", spec.name);
                let above = crate::settings::num(max + 1.0);
                let e = only_error(&[(spec.name, &above)]);
                assert_eq!(
                    (e.field.as_str(), e.problem.as_str()),
                    (spec.name, "is out of range")
                );
                if spec.name != "cost" {
                    assert!(
                        e.allowed.contains(&crate::settings::num(min)),
                        "{}",
                        e.message
                    );
                }
                let e = only_error(&[(spec.name, "many")]);
                assert_eq!(
                    (e.field.as_str(), e.problem.as_str()),
                    (spec.name, "is not a number")
                );
            }
            FieldKind::Choice { choices } => {
                let (_, decl, names) = unions
                    .iter()
                    .find(|(name, _, _)| *name == ts)
                    .unwrap_or_else(|| panic!("{}: no union named {ts}", spec.name));
                assert_eq!(union_members(decl), choices.to_vec(), "{}", spec.name);
                assert_eq!(*names, choices, "{}", spec.name);
                for choice in choices {
                    // An overload policy needs an open-loop arrival to apply to.
                    let context = if spec.name == "overload" {
                        ("arrival", "poisson")
                    } else if *choice == "bottleneck" {
                        // It moves workers between a pipeline's stages.
                        ("pattern", "pipeline")
                    } else {
                        ("seed", "1")
                    };
                    assert!(
                        parse(&[(spec.name, choice), context]).is_ok(),
                        "{}={choice}",
                        spec.name
                    );
                }
                let e = only_error(&[(spec.name, "?")]);
                assert_eq!(e.allowed, choices.join(", "));
            }
            FieldKind::Stages { max_stages, .. } => {
                use crate::workload::arrival::{Stage, Stages};
                assert_eq!(ts, "Stages", "{}", spec.name);
                assert!(Stages::DECL.contains("Stage[]"), "{}", Stages::DECL);
                assert!(
                    Stage::DECL.contains("durationMs: number"),
                    "{}",
                    Stage::DECL
                );
                assert_eq!(max_stages as usize, crate::workload::arrival::MAX_STAGES);
                let e = only_error(&[(spec.name, "soon")]);
                assert_eq!(e.field, spec.name);
                assert!(e.allowed.contains("durationMs:rate"), "{}", e.message);
            }
            FieldKind::Pipeline { max_stages, .. } => {
                use crate::workload::pipeline::{PipelineStages, StageSpec};
                assert_eq!(ts, "PipelineStages", "{}", spec.name);
                assert!(
                    PipelineStages::DECL.contains("StageSpec[]"),
                    "{}",
                    PipelineStages::DECL
                );
                assert!(
                    StageSpec::DECL.contains("workload: WorkKind"),
                    "{}",
                    StageSpec::DECL
                );
                assert_eq!(max_stages as usize, crate::workload::pipeline::MAX_STAGES);
                let e = only_error(&[(spec.name, "soon")]);
                assert_eq!(e.field, spec.name);
                assert!(
                    e.allowed.contains("workload:cost:workers:queue"),
                    "{}",
                    e.message
                );
            }
            FieldKind::Flag => {
                assert_eq!(ts, "boolean", "{}", spec.name);
                assert!(parse(&[(spec.name, "true")]).is_ok());
                assert_eq!(only_error(&[(spec.name, "maybe")]).field, spec.name);
            }
        }
        // The schema's default reads back as the default.
        if !spec.default.is_empty() {
            assert_eq!(
                parse(&[(spec.name, &spec.default)]).unwrap(),
                RunConfig::default()
            );
        }
    }
    // Every key of the generated type is a setting.
    let declared = RunSettings::DECL
        .lines()
        .filter_map(|l| l.trim().split_once("?: ").map(|(k, _)| k.to_owned()))
        .count();
    assert_eq!(declared, fields().len());
}

/// The one error parsing `given` produces.
fn only_error(given: &[(&str, &str)]) -> ConfigError {
    let errors = parse(given).unwrap_err();
    assert_eq!(errors.0.len(), 1, "{errors}");
    errors.0[0].clone()
}

#[test]
fn open_loop_settings_that_do_not_fit_are_refused_with_the_field_named() {
    let e = only_error(&[("arrival", "poisson"), ("pattern", "fanout")]);
    assert_eq!(e.field, "arrival");
    assert!(e.problem.contains("pool"), "{}", e.message);
    let e = only_error(&[("overload", "reject")]);
    assert_eq!(e.field, "overload");
    assert!(e.problem.contains("open-loop"), "{}", e.message);
    let e = only_error(&[("arrival", "stages"), ("stages", "0:100")]);
    assert_eq!(e.field, "stages");
    assert!(e.problem.contains("no time"), "{}", e.message);
    for (field, value) in [
        ("arrivalRate", "0"),
        ("arrivalRate", "100001"),
        ("spikeRate", "-1"),
        ("spikeAt", "3600001"),
        ("spikeFor", "x"),
        ("shedAfter", "0"),
        ("stages", "1000:100,oops"),
        ("stages", "1000:200000"),
    ] {
        let e = only_error(&[(field, value)]);
        assert_eq!((e.field.as_str(), e.value.as_str()), (field, value));
        assert!(!e.allowed.is_empty(), "{}", e.message);
    }
    // Every problem at once, in declaration order.
    let errors = parse(&[("arrivalRate", "0"), ("stages", "x"), ("shedAfter", "-5")]).unwrap_err();
    let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["arrivalRate", "stages", "shedAfter"]);
    // A good open-loop set-up reads, and its link text reads back the same.
    let good = parse(&[
        ("arrival", "stages"),
        (
            "stages",
            r#"[{"durationMs":1000,"rate":50},{"durationMs":0,"rate":900}]"#,
        ),
        ("overload", "shed"),
        ("shedAfter", "2.5"),
        ("distribution", "exponential"),
    ])
    .unwrap();
    let text: Vec<(&str, String)> = good.to_fields();
    let again = RunConfig::from_fields(text.iter().map(|(k, v)| (*k, v.as_str()))).unwrap();
    assert_eq!(again, good);
    assert_eq!(good.stages.to_text(), "1000:50,0:900");
}

#[test]
fn a_job_heavier_than_the_backend_is_refused_with_the_backends_size() {
    let e = only_error(&[
        ("workload", "backend"),
        ("backendSlots", "4"),
        ("maxWeight", "5"),
    ]);
    assert_eq!((e.field.as_str(), e.value.as_str()), ("maxWeight", "5"));
    assert!(e.problem.contains("backendSlots (4)"), "{}", e.message);
    assert_eq!(e.allowed, "a whole number 1–4 slots (backendSlots)");
    // As heavy as the whole backend is fine; other workloads ignore the weight.
    parse(&[
        ("workload", "backend"),
        ("backendSlots", "4"),
        ("maxWeight", "4"),
    ])
    .unwrap();
    parse(&[
        ("workload", "sleep"),
        ("backendSlots", "4"),
        ("maxWeight", "5"),
    ])
    .unwrap();
    let e = only_error(&[("maxWeight", "0")]);
    assert_eq!(e.field, "maxWeight");
}
