use super::*;

/// An export as the page writes it (trimmed to what an import reads, plus extras).
fn exported() -> Value {
    serde_json::json!({
        "scalelab": 2,
        "pattern": "pool",
        "settings": { "pattern": "pool", "workers": "4", "jobs": "60", "workload": "primes" },
        "report": {
            "counts": { "submitted": 60, "completed": 58, "failed": 0, "cancelled": 0, "notStarted": 0, "rejected": 1, "shed": 1 },
            "throughputPerS": 1234.5,
            "wallMs": 48.6,
            "latency": { "total": { "p50": 1.5, "p90": 2.0, "p99": 3.25, "max": 4.0 } },
            "series": { "bucketMs": 10, "tMs": [0, 10, 20], "throughput": [100, 2000, 50] },
            "limiter": null,
            "somethingNew": [1, 2, 3]
        },
        "jobs": []
    })
}

fn read(value: &Value) -> Result<ImportedRun, ConfigErrors> {
    read_run_export(&value.to_string(), "earlier.json")
}

fn fields(errors: &ConfigErrors) -> Vec<&str> {
    errors.0.iter().map(|e| e.field.as_str()).collect()
}

#[test]
fn an_export_reads_back_with_its_figures() {
    let run = read(&exported()).unwrap();
    assert_eq!(
        run.label,
        "imported: pool · 4 workers · primes (earlier.json)"
    );
    assert_eq!(run.report.counts.completed, 58);
    assert_eq!(run.report.counts.rejected, 1);
    assert_eq!(run.report.counts.submitted, 60);
    assert_eq!(run.report.latency.total.p99, 3.25);
    assert_eq!(run.report.series.throughput, vec![100.0, 2000.0, 50.0]);
    assert_eq!(run.report.limiter, None);
    assert_eq!(run.settings["workers"], "4");
}

#[test]
fn every_problem_is_reported_with_field_value_and_allowed() {
    let mut bad = exported();
    bad["report"]["throughputPerS"] = "fast".into();
    bad["report"]["counts"]["completed"] = (-3).into();
    bad["report"]["series"]["tMs"] = serde_json::json!([0, 10]);
    bad["settings"]["workers"] = "0".into();
    let errors = read(&bad).unwrap_err();
    assert_eq!(
        fields(&errors),
        [
            "settings.workers",
            "report.counts.completed",
            "report.throughputPerS",
            "report.series.throughput"
        ]
    );
    let speed = &errors.0[2];
    assert_eq!(speed.value, "\"fast\"");
    assert_eq!(speed.allowed, "a finite number ≥ 0");
    // Settings are checked by the settings parser: the form's own message, prefixed.
    let form = RunConfig::from_fields([("workers", "0")]).unwrap_err();
    assert_eq!(
        errors.0[0].message,
        format!("settings.{}", form.0[0].message)
    );
    assert_eq!(errors.0[0].allowed, form.0[0].allowed);
}

#[test]
fn files_that_are_not_run_exports_are_refused() {
    let not_json = read_run_export("hello", "x.json").unwrap_err();
    assert_eq!(fields(&not_json), ["file"]);
    assert!(not_json.0[0].problem.starts_with("is not JSON"));
    let array = read(&serde_json::json!([1, 2])).unwrap_err();
    assert_eq!(
        array.0[0].message,
        "file: [1,2] is not an object; allowed: an object"
    );
    let other = read(&serde_json::json!({ "scalelab": 3 })).unwrap_err();
    assert_eq!(fields(&other), ["scalelab"]);
    assert_eq!(other.0[0].allowed, "1–2 (a run exported by scalelab)");
}

#[test]
fn a_format_1_export_had_no_rejected_or_shed_jobs() {
    let mut old = exported();
    old["scalelab"] = 1.into();
    let counts = old["report"]["counts"].as_object_mut().unwrap();
    counts.remove("rejected");
    counts.remove("shed");
    counts.insert("completed".into(), 60.into());
    let run = read(&old).unwrap();
    assert_eq!((run.report.counts.rejected, run.report.counts.shed), (0, 0));
    assert!(run.report.counts.identity_holds());
    // Format 2 must name them.
    old["scalelab"] = 2.into();
    let errors = read(&old).unwrap_err();
    assert_eq!(
        fields(&errors),
        ["report.counts.rejected", "report.counts.shed"]
    );
}

#[test]
fn counts_must_add_up_and_name_every_outcome() {
    let mut bad = exported();
    bad["report"]["counts"]["submitted"] = 61.into();
    let errors = read(&bad).unwrap_err();
    assert_eq!(fields(&errors), ["report.counts.submitted"]);
    let mut missing = exported();
    missing["report"]["counts"]
        .as_object_mut()
        .unwrap()
        .remove("notStarted");
    let errors = read(&missing).unwrap_err();
    assert_eq!(
        errors.0[0].message,
        "report.counts.notStarted: (empty) is missing; allowed: a whole number from 0 to 4294967295"
    );
}

#[test]
fn long_texts_are_cut_and_markup_stays_text() {
    let mut hostile = exported();
    hostile["pattern"] = "<img src=x onerror=\"alert(1)\">".repeat(10).into();
    let run = read(&hostile).unwrap();
    assert_eq!(
        run.pattern.chars().count(),
        MAX_TEXT + 1,
        "cut, with an ellipsis"
    );
    assert!(run.label.starts_with("imported: <img src=x"));
}
