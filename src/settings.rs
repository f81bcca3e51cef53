//! Settings declared once: the machinery behind [`settings!`](crate::settings!) and
//! [`choices!`](crate::choices!).
//!
//! A group of settings (a run's, a sweep's) is one macro invocation: each setting's
//! Rust field, its key in forms, links, JSON and the JavaScript API, its type, default,
//! range, label, unit and help. From that one declaration come
//! - the validated struct and its `Default`;
//! - its schema ([`FieldSpec`]s: what the page builds its form from, what links carry);
//! - the text parser `from_fields` (forms, links, imported JSON, the JavaScript API),
//!   which reports *every* problem at once, each as a [`ConfigError`]
//!   `{ field, value, problem, allowed, message }`;
//! - `to_fields` (the inverse: what a link carries) and the range checks of `validate`;
//! - a `…Settings` twin with every field optional, whose TypeScript declaration
//!   (tsify) is what `www/pkg/scalelab.d.ts` says a script may pass.
//!
//! A choice (an enum of named values) is declared once with [`choices!`](crate::choices!):
//! its variants' names are its serde names, its schema's choices and its TypeScript
//! union, from the same list.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// What kind of value a field takes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum FieldKind {
    /// A whole number in `min..=max`.
    Integer {
        /// Smallest allowed.
        min: f64,
        /// Largest allowed.
        max: f64,
    },
    /// A number in `min..=max`.
    Number {
        /// Smallest allowed.
        min: f64,
        /// Largest allowed.
        max: f64,
    },
    /// One of `choices`.
    Choice {
        /// The allowed values.
        choices: &'static [&'static str],
    },
    /// On or off.
    Flag,
    /// A list of load stages, `durationMs:rate` pairs separated by commas (or a JSON list
    /// of `{ durationMs, rate }`); see [`crate::workload::arrival::Stages`].
    Stages {
        /// Most stages in a list.
        #[serde(rename = "maxStages")]
        max_stages: u32,
        /// Longest stage, ms.
        #[serde(rename = "maxDurationMs")]
        max_duration_ms: f64,
        /// Highest rate, jobs/s.
        #[serde(rename = "maxRate")]
        max_rate: f64,
    },
    /// A pipeline's stages, `workload:cost:workers:queue` separated by commas (or a JSON
    /// list of `{ workload, cost, workers, queue }`); see
    /// [`crate::workload::pipeline::PipelineStages`].
    Pipeline {
        /// Fewest stages.
        #[serde(rename = "minStages")]
        min_stages: u32,
        /// Most stages.
        #[serde(rename = "maxStages")]
        max_stages: u32,
        /// Most workers in a stage.
        #[serde(rename = "maxWorkers")]
        max_workers: u32,
        /// Largest queue in front of a stage.
        #[serde(rename = "maxQueue")]
        max_queue: u32,
    },
}

/// One setting: how the page labels it and what it accepts.
#[derive(Debug, Clone, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct FieldSpec {
    /// Key in forms, links, JSON and the JS API.
    pub name: &'static str,
    /// Label on the page.
    pub label: &'static str,
    /// Unit shown next to the field ("" for none).
    pub unit: &'static str,
    /// Accepted values.
    pub kind: FieldKind,
    /// Default, as text ("" where it depends on another setting, e.g. `cost`).
    pub default: String,
    /// One line of help.
    pub help: &'static str,
}

/// A setting that is not allowed: which field, the value given, and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, tsify_next::Tsify)]
pub struct ConfigError {
    /// The field's name.
    pub field: String,
    /// The value as given (shortened if long).
    pub value: String,
    /// What is wrong with it.
    pub problem: String,
    /// What would be accepted.
    pub allowed: String,
    /// The whole message: "field: value problem; allowed: ...".
    pub message: String,
}

impl ConfigError {
    /// "`field` is not a known setting; allowed: ..." for a name not among `known`.
    pub(crate) fn unknown_of<'a>(field: &str, known: impl Iterator<Item = &'a str>) -> ConfigError {
        let field = shorten(field);
        let allowed = known.collect::<Vec<_>>().join(", ");
        let message = format!("{field} is not a known setting; allowed: {allowed}");
        ConfigError {
            field,
            value: String::new(),
            problem: "is not a known setting".to_owned(),
            allowed,
            message,
        }
    }

    /// An error for `field`: `value` `problem`; allowed: `allowed`.
    pub(crate) fn new(field: &str, value: &str, problem: &str, allowed: String) -> ConfigError {
        let value = shorten(value);
        let shown = if value.is_empty() {
            "(empty)".to_owned()
        } else {
            value.clone()
        };
        let message = format!("{field}: {shown} {problem}; allowed: {allowed}");
        ConfigError {
            field: field.to_owned(),
            value,
            problem: problem.to_owned(),
            allowed,
            message,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// All the problems found in one configuration (never empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let messages: Vec<&str> = self.0.iter().map(|e| e.message.as_str()).collect();
        f.write_str(&messages.join("\n"))
    }
}

impl std::error::Error for ConfigErrors {}

/// Values longer than this are cut in messages (a pasted essay stays readable).
const MAX_SHOWN: usize = 40;

fn shorten(value: &str) -> String {
    cut_to(value, MAX_SHOWN)
}

/// `value` cut to `max` characters, with an ellipsis when cut.
pub(crate) fn cut_to(value: &str, max: usize) -> String {
    if value.chars().count() <= max {
        value.to_owned()
    } else {
        let head: String = value.chars().take(max).collect();
        format!("{head}…")
    }
}

/// Renders a number for messages and links: whole numbers without a fraction, others
/// as Rust prints them.
pub(crate) fn num(x: f64) -> String {
    if x.is_infinite() {
        // As JavaScript's String() writes it (what a script or link would have given).
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if x.fract() == 0.0 && x.abs() < 1e16 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// "a whole number 1–256 goroutines", "0–1", …
pub(crate) fn range_text(min: f64, max: f64, unit: &str, whole: bool) -> String {
    let kind = if whole { "a whole number " } else { "" };
    let unit = if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    };
    format!("{kind}{}–{}{unit}", num(min), num(max))
}

/// A numeric range a value is checked against.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    /// Smallest allowed.
    pub min: f64,
    /// Largest allowed.
    pub max: f64,
    /// Whole numbers only.
    pub whole: bool,
    /// The unit, as messages show it.
    pub unit: String,
}

impl Range {
    /// What messages say is allowed.
    pub fn text(&self) -> String {
        range_text(self.min, self.max, &self.unit, self.whole)
    }

    /// Checks `value` (shown as `shown`) for field `field`.
    pub fn check(&self, field: &str, value: f64, shown: &str) -> Result<(), ConfigError> {
        let problem = if value.is_nan() {
            "is not a number"
        } else if value.is_infinite() || value < self.min || value > self.max {
            "is out of range"
        } else if self.whole && value.fract() != 0.0 {
            "is not a whole number"
        } else {
            return Ok(());
        };
        Err(ConfigError::new(field, shown, problem, self.text()))
    }
}

/// A closed set of named values (declared with [`choices!`](crate::choices!)).
pub trait Choice: Copy + PartialEq + 'static {
    /// Every value, in declaration order.
    const ALL: &'static [Self];
    /// Their names, in the same order.
    const NAMES: &'static [&'static str];

    /// This value's name.
    fn name(self) -> &'static str {
        let at = Self::ALL
            .iter()
            .position(|v| *v == self)
            .expect("every value is in ALL");
        Self::NAMES[at]
    }

    /// The value named `text`.
    fn from_name(text: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .position(|n| *n == text)
            .map(|at| Self::ALL[at])
    }
}

/// A type a setting can have: how it reads from and writes to text, and what the schema
/// says it accepts.
pub trait SettingValue: Sized + Clone {
    /// The schema's kind, given the declared range (numbers only).
    fn kind(range: Option<(f64, f64)>) -> FieldKind;
    /// Reads `text`; `Err(problem)` if it is not this type at all (ranges are checked
    /// later, on the whole configuration).
    fn parse_text(text: &str) -> Result<Self, &'static str>;
    /// The value as text (what links carry; `parse_text` reads it back).
    fn to_text(&self) -> String;
    /// The value as a number, for range checks (`None`: not a number).
    fn as_number(&self) -> Option<f64>;
}

fn parse_number(text: &str) -> Result<f64, &'static str> {
    if text.is_empty() {
        return Err("is empty");
    }
    text.parse::<f64>().map_err(|_| "is not a number")
}

macro_rules! whole_number_setting {
    ($($ty:ty),+) => {$(
        impl SettingValue for $ty {
            fn kind(range: Option<(f64, f64)>) -> FieldKind {
                let (min, max) = range.expect("a number setting declares its range");
                FieldKind::Integer { min, max }
            }
            fn parse_text(text: &str) -> Result<Self, &'static str> {
                // The same order of checks as `Range::check`.
                let value = parse_number(text)?;
                if value.is_nan() {
                    return Err("is not a number");
                }
                if !(0.0..=<$ty>::MAX as f64).contains(&value) {
                    return Err("is out of range");
                }
                if value.fract() != 0.0 {
                    return Err("is not a whole number");
                }
                Ok(value as $ty)
            }
            fn to_text(&self) -> String {
                self.to_string()
            }
            fn as_number(&self) -> Option<f64> {
                Some(*self as f64)
            }
        }
    )+};
}
whole_number_setting!(u32, u64);

impl SettingValue for f64 {
    fn kind(range: Option<(f64, f64)>) -> FieldKind {
        let (min, max) = range.expect("a number setting declares its range");
        FieldKind::Number { min, max }
    }
    fn parse_text(text: &str) -> Result<Self, &'static str> {
        let value = parse_number(text)?;
        if value.is_nan() {
            return Err("is not a number");
        }
        Ok(value)
    }
    fn to_text(&self) -> String {
        num(*self)
    }
    fn as_number(&self) -> Option<f64> {
        Some(*self)
    }
}

impl SettingValue for bool {
    fn kind(_: Option<(f64, f64)>) -> FieldKind {
        FieldKind::Flag
    }
    fn parse_text(text: &str) -> Result<Self, &'static str> {
        match text {
            "true" | "1" | "on" | "yes" => Ok(true),
            "false" | "0" | "off" | "no" | "" => Ok(false),
            _ => Err("is not on or off"),
        }
    }
    fn to_text(&self) -> String {
        self.to_string()
    }
    fn as_number(&self) -> Option<f64> {
        None
    }
}

impl<T: Choice> SettingValue for T {
    fn kind(_: Option<(f64, f64)>) -> FieldKind {
        FieldKind::Choice { choices: T::NAMES }
    }
    fn parse_text(text: &str) -> Result<Self, &'static str> {
        T::from_name(text).ok_or("is not one of the choices")
    }
    fn to_text(&self) -> String {
        self.name().to_owned()
    }
    fn as_number(&self) -> Option<f64> {
        None
    }
}

/// What a type error's message says is allowed, for a field of `kind` whose numeric
/// range is `range`.
pub(crate) fn allowed_text(kind: &FieldKind, range: Option<Range>) -> String {
    match (kind, range) {
        (FieldKind::Choice { choices }, _) => choices.join(", "),
        (FieldKind::Flag, _) => "true or false".to_owned(),
        (FieldKind::Stages { .. }, _) => crate::workload::arrival::Stages::allowed_text(),
        (FieldKind::Pipeline { .. }, _) => {
            crate::workload::pipeline::PipelineStages::allowed_text()
        }
        (_, Some(range)) => range.text(),
        (FieldKind::Integer { min, max }, None) => range_text(*min, *max, "", true),
        (FieldKind::Number { min, max }, None) => range_text(*min, *max, "", false),
    }
}

/// Settings given as text, trimmed, by key; and the problems found reading them.
pub(crate) struct GivenFields {
    pub values: BTreeMap<String, String>,
    pub errors: Vec<ConfigError>,
    /// Keys whose text could not be read (their range is not checked again).
    pub unreadable: Vec<&'static str>,
}

impl GivenFields {
    /// Collects `fields`, reporting names not among `known`.
    pub(crate) fn collect<K: AsRef<str>, V: AsRef<str>>(
        fields: impl IntoIterator<Item = (K, V)>,
        known: &[&'static str],
    ) -> GivenFields {
        let values: BTreeMap<String, String> = fields
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().trim().to_owned()))
            .collect();
        let errors = values
            .keys()
            .filter(|name| !known.contains(&name.as_str()))
            .map(|name| ConfigError::unknown_of(name, known.iter().copied()))
            .collect();
        GivenFields {
            values,
            errors,
            unreadable: Vec::new(),
        }
    }

    /// Whether `key` was given.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }

    /// Reads `key` as a `T`, or keeps `default` if it was not given or cannot be read
    /// (then the problem is recorded; its message is finished later, when the allowed
    /// range is known).
    pub(crate) fn read<T: SettingValue>(&mut self, key: &'static str, default: T) -> T {
        let Some(text) = self.values.get(key) else {
            return default;
        };
        match T::parse_text(text) {
            Ok(value) => value,
            Err(problem) => {
                self.errors
                    .push(ConfigError::new(key, text, problem, String::new()));
                self.unreadable.push(key);
                default
            }
        }
    }
}

/// Declares a choice type: an enum whose variants have one name each, used by serde,
/// the schema, the parser and the TypeScript union alike.
#[macro_export]
#[doc(hidden)]
macro_rules! choices {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            ::serde::Serialize, ::serde::Deserialize, ::tsify_next::Tsify,
        )]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant ),+
        }

        impl $crate::settings::Choice for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
            const NAMES: &'static [&'static str] = &[$($text),+];
        }
    };
}

/// Declares a group of settings once; see the module documentation for what it makes.
/// Each field: `doc`, `field "key": Type = default, [min, max] (or [] for a type with
/// no range), "label", "unit", "help";`. The struct must implement `ranges(&self, key)` (the numeric range a
/// key is checked against, which may depend on other fields) in an `impl` of its own.
#[macro_export]
#[doc(hidden)]
macro_rules! settings {
    (
        $(#[$meta:meta])*
        pub struct $name:ident, optional $optional:ident;
        $(
            $(#[$fmeta:meta])*
            $field:ident $key:literal : $ty:ty = $default:expr,
            [$( $min:expr, $max:expr )?], $label:literal, $unit:literal, $help:literal;
        )+
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        pub struct $name {
            $( $(#[$fmeta])* #[serde(rename = $key)] pub $field: $ty, )+
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $( $field: $default, )+ }
            }
        }

        /// The same settings, each optional (missing ones take their defaults): what a
        /// script passes to the JavaScript API.
        #[derive(Debug, Clone, Default, PartialEq, ::serde::Serialize, ::tsify_next::Tsify)]
        pub struct $optional {
            $(
                $(#[$fmeta])*
                #[serde(rename = $key, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )+
        }

        impl $name {
            /// Every key, in declaration order.
            pub const KEYS: &'static [&'static str] = &[$($key),+];

            /// The schema: one spec per setting, in declaration order.
            pub fn schema() -> Vec<$crate::settings::FieldSpec> {
                let defaults = $name::default();
                vec![$(
                    $crate::settings::FieldSpec {
                        name: $key,
                        label: $label,
                        unit: $unit,
                        kind: <$ty as $crate::settings::SettingValue>::kind(
                            $crate::settings!(@range $( ($min, $max) )?)
                        ),
                        default: defaults.default_text($key)
                            .unwrap_or_else(|| $crate::settings::SettingValue::to_text(&defaults.$field)),
                        help: $help,
                    },
                )+]
            }

            /// The settings as text, by key (the inverse of `from_fields`).
            pub fn to_fields(&self) -> Vec<(&'static str, String)> {
                vec![$( ($key, $crate::settings::SettingValue::to_text(&self.$field)), )+]
            }

            /// Reads every given key over the defaults; problems are collected in
            /// `given` (the caller finishes their messages with [`Self::finish_parse`]).
            fn read_fields(given: &mut $crate::settings::GivenFields) -> $name {
                let defaults = $name::default();
                $name { $( $field: given.read::<$ty>($key, defaults.$field), )+ }
            }

            /// Checks every numeric setting against its range (see `ranges`). Messages
            /// show a value as it was `given` (text), else as the number it is.
            fn check_ranges(
                &self,
                skip: &[&str],
                given: Option<&$crate::settings::GivenFields>,
            ) -> Vec<$crate::settings::ConfigError> {
                let mut errors = Vec::new();
                $(
                    if !skip.contains(&$key)
                        && let (Some(value), Some(range)) = (
                            $crate::settings::SettingValue::as_number(&self.$field),
                            self.ranges($key),
                        )
                        && let Err(e) = range.check(
                            $key,
                            value,
                            &given
                                .and_then(|g| g.values.get($key).cloned())
                                .unwrap_or_else(|| $crate::settings::num(value)),
                        )
                    {
                        errors.push(e);
                    }
                )+
                errors
            }

            /// The declared range of `key` (numbers only).
            fn declared_range(key: &str) -> Option<$crate::settings::Range> {
                match key {
                    $( $key => $crate::settings!(@range $( ($min, $max) )?).map(|(min, max)| {
                        $crate::settings::Range {
                            min,
                            max,
                            whole: matches!(
                                <$ty as $crate::settings::SettingValue>::kind(Some((min, max))),
                                $crate::settings::FieldKind::Integer { .. }
                            ),
                            unit: $unit.to_owned(),
                        }
                    }), )+
                    _ => None,
                }
            }

            /// Completes the type errors' messages with what is allowed (which may
            /// depend on other settings, hence after reading them all).
            fn finish_parse(&self, given: &mut $crate::settings::GivenFields)
                -> (Vec<$crate::settings::ConfigError>, Vec<&'static str>)
            {
                let schema = $name::schema();
                let errors: Vec<_> = std::mem::take(&mut given.errors).into_iter().map(|mut e| {
                    if let Some(spec) = schema.iter().find(|s| s.name == e.field)
                        && e.allowed.is_empty()
                    {
                        let allowed = $crate::settings::allowed_text(&spec.kind, self.ranges(spec.name));
                        e = $crate::settings::ConfigError::new(spec.name, &e.value, &e.problem, allowed);
                    }
                    e
                }).collect();
                (errors, std::mem::take(&mut given.unreadable))
            }

            /// `errors` in the order of the declaration (unknown names first), so every
            /// way in lists the same problems the same way.
            fn in_declaration_order(
                mut errors: Vec<$crate::settings::ConfigError>,
            ) -> $crate::settings::ConfigErrors {
                errors.sort_by_key(|e| Self::KEYS.iter().position(|k| *k == e.field));
                $crate::settings::ConfigErrors(errors)
            }
        }
    };
    (@range ($min:expr, $max:expr)) => { Some(($min as f64, $max as f64)) };
    (@range) => { None };
}
