//! How a job can end — declared once. From the one list in [`outcomes!`] come the
//! [`Outcome`] enum, its codes in job slots and in the JS job columns, the [`Counts`]
//! of a run (one field per outcome, and the accounting identity over all of them), and
//! [`OUTCOMES`], the table the page reads (through `engineSchema().outcomes`) for its
//! names, labels, colours and count keys. A new outcome is one more line here.

use serde::Serialize;

/// One outcome as the page sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeSpec {
    /// Its code in the job columns (`JobColumns.outcome`); 0 is "still running".
    pub code: u8,
    /// Its name in reports, CSV and JSON (`not_started`).
    pub name: &'static str,
    /// Its key in `Counts` (`notStarted`).
    pub key: &'static str,
    /// What the page calls it (`not started`).
    pub label: &'static str,
    /// Its colour on the timeline and in the keys (Okabe–Ito, as css/app.css).
    pub colour: &'static str,
    /// How its bars are filled, so that outcomes differ without colour too.
    pub fill: Fill,
    /// Whether a job that ends so returns a result (it ran its kernel to the end).
    pub has_result: bool,
    /// Whether a job that ends so had started.
    pub started: bool,
    /// The run-export format that first counts it (an older export lacks it: 0).
    pub since_export: u8,
}

/// How a bar is filled on the timeline and in its key: the second cue beside colour,
/// for readers who do not tell the colours apart. Outcomes that start (and so have a
/// bar) each have their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "kebab-case")]
pub enum Fill {
    /// Plain colour.
    Solid,
    /// Light diagonal stripes (`/`).
    Hatch,
    /// Light stripes both ways (`×`).
    CrossHatch,
}

macro_rules! outcomes {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident = $code:literal, $field:ident, $name:literal, $key:literal,
        $label:literal, $colour:literal, $fill:ident, has_result: $has_result:literal,
        started: $started:literal, since_export: $since:literal;
    )+) => {
        /// How a job ended.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, tsify_next::Tsify)]
        #[serde(rename_all = "snake_case")]
        pub enum Outcome {
            $($(#[doc = $doc])* $variant,)+
        }

        /// Every outcome, as the page sees it, in code order.
        pub const OUTCOMES: &[OutcomeSpec] = &[$(OutcomeSpec {
            code: $code,
            name: $name,
            key: $key,
            label: $label,
            colour: $colour,
            fill: Fill::$fill,
            has_result: $has_result,
            started: $started,
            since_export: $since,
        },)+];

        impl Outcome {
            /// Every outcome, in code order.
            pub const ALL: &[Outcome] = &[$(Outcome::$variant,)+];

            /// The outcome's code in a slot (and in the JS job columns); 0 is "none yet".
            pub(crate) fn code(self) -> u8 {
                match self {
                    $(Outcome::$variant => $code,)+
                }
            }

            /// The outcome with this code.
            #[cfg(test)]
            pub(crate) fn from_code(code: u8) -> Option<Outcome> {
                match code {
                    $($code => Some(Outcome::$variant),)+
                    _ => None,
                }
            }

            /// How the page shows it.
            pub fn spec(self) -> &'static OutcomeSpec {
                &OUTCOMES[self.code() as usize - 1]
            }

            /// Whether a job that ends so returns a result.
            pub fn has_result(self) -> bool {
                self.spec().has_result
            }
        }

        /// Counts of final outcomes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, tsify_next::Tsify)]
        #[serde(rename_all = "camelCase")]
        pub struct Counts {
            /// Jobs in the run.
            pub submitted: u32,
            $($(#[doc = $doc])* pub $field: u32,)+
        }

        impl Counts {
            /// Jobs with a final outcome.
            pub fn done(&self) -> u32 {
                0 $(+ self.$field)+
            }

            /// The count of one outcome.
            pub fn of(&self, outcome: Outcome) -> u32 {
                match outcome {
                    $(Outcome::$variant => self.$field,)+
                }
            }

            /// Counts from a function of the outcome (e.g. a counter per outcome).
            pub fn from_fn(submitted: u32, mut count: impl FnMut(Outcome) -> u32) -> Counts {
                Counts {
                    submitted,
                    $($field: count(Outcome::$variant),)+
                }
            }
        }
    };
}

outcomes! {
    /// Ran to the end and returned a result.
    Completed = 1, completed, "completed", "completed", "completed", "#009e73", Solid,
        has_result: true, started: true, since_export: 1;
    /// Ran and returned an error.
    Failed = 2, failed, "failed", "failed", "failed", "#d55e00", CrossHatch,
        has_result: true, started: true, since_export: 1;
    /// Started, then stopped by the run's cancellation.
    Cancelled = 3, cancelled, "cancelled", "cancelled", "cancelled", "#e69f00", Hatch,
        has_result: false, started: true, since_export: 1;
    /// Never started: the run was cancelled (or failed fast) first.
    NotStarted = 4, not_started, "not_started", "notStarted", "not started", "#bbbbbb", Solid,
        has_result: false, started: false, since_export: 1;
    /// Refused on arrival: the queue was full (overload policy `reject`, or `shed`).
    Rejected = 5, rejected, "rejected", "rejected", "rejected", "#cc79a7", Solid,
        has_result: false, started: false, since_export: 2;
    /// Dropped from the queue without running: pushed out by a newer arrival
    /// (`drop-oldest`), or it waited past the deadline (`shed`).
    Shed = 6, shed, "shed", "shed", "shed", "#f0e442", Solid,
        has_result: false, started: false, since_export: 2;
}

impl Counts {
    /// The accounting identity: every submitted job has exactly one final outcome
    /// (`submitted = completed + failed + cancelled + not_started + rejected + shed`).
    pub fn identity_holds(&self) -> bool {
        self.submitted == self.done()
    }
}

/// The outcomes the accounting line lists, in order: those every run can have (the
/// overload outcomes, rejected and shed, have a line of their own in open-loop runs).
pub fn accounting_outcomes() -> impl Iterator<Item = &'static OutcomeSpec> {
    OUTCOMES.iter().filter(|spec| spec.since_export == 1)
}

/// The line a run's summary shows and the generated Go program prints last:
/// `accounting: submitted=N completed=N failed=N cancelled=N notStarted=N checksum=X`,
/// where X is the wrapping 64-bit sum of the completed jobs' results.
pub fn accounting_line(counts: &Counts, checksum: u64) -> String {
    let mut line = format!("accounting: submitted={}", counts.submitted);
    for spec in accounting_outcomes() {
        let outcome = Outcome::ALL[spec.code as usize - 1];
        line.push_str(&format!(" {}={}", spec.key, counts.of(outcome)));
    }
    line.push_str(&format!(" checksum={checksum}"));
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_names_and_count_keys_agree_with_serde() {
        for (index, &outcome) in Outcome::ALL.iter().enumerate() {
            let spec = outcome.spec();
            assert_eq!(spec.code as usize, index + 1, "codes are 1, 2, … in order");
            assert_eq!(Outcome::from_code(spec.code), Some(outcome));
            assert_eq!(
                serde_json::to_value(outcome).unwrap(),
                serde_json::Value::from(spec.name)
            );
            let counts = Counts::from_fn(7, |o| u32::from(o == outcome));
            assert_eq!(counts.of(outcome), 1);
            let json = serde_json::to_value(counts).unwrap();
            assert_eq!(json[spec.key], 1, "{} counts under {}", spec.name, spec.key);
            assert_eq!(counts.done(), 1);
        }
        assert_eq!(Outcome::from_code(0), None);
        // The generated TypeScript names the same outcomes and count keys.
        use tsify_next::Tsify;
        for spec in OUTCOMES {
            assert!(
                Outcome::DECL.contains(&format!("\"{}\"", spec.name)),
                "{}",
                Outcome::DECL
            );
            assert!(
                Counts::DECL.contains(&format!("{}: number", spec.key)),
                "{}",
                Counts::DECL
            );
        }
        let keys = serde_json::to_value(Counts::default()).unwrap();
        assert_eq!(
            keys.as_object().unwrap().len(),
            OUTCOMES.len() + 1,
            "Counts has submitted and one field per outcome"
        );
    }

    #[test]
    fn outcomes_with_bars_differ_in_fill_as_well_as_colour() {
        let started: Vec<_> = OUTCOMES.iter().filter(|spec| spec.started).collect();
        assert!(started.len() >= 3, "completed, failed, cancelled");
        for (i, a) in started.iter().enumerate() {
            for b in &started[i + 1..] {
                assert_ne!(a.colour, b.colour, "{} and {}", a.name, b.name);
                assert_ne!(
                    a.fill, b.fill,
                    "{} and {} need more than colour",
                    a.name, b.name
                );
            }
        }
        assert_eq!(
            serde_json::to_value(Fill::CrossHatch).unwrap(),
            "cross-hatch"
        );
    }
}
