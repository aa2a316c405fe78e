//! Accuracy of the device-type classification on labelled User-Agent sets.
//!
//! Set `AUTH_TRACKER_DEVICE_FIXTURES` to a folder of `*.jsonl` files with one
//! `{"user_agent": "...", "device_type": "..."}` object per line. A `device_type` of
//! `not-mobile` accepts any result other than `phone` and `tablet`. The test prints the
//! accuracy of each file, the precision and recall of each class and the most frequent
//! misses, and is skipped when the variable is unset. Set `AUTH_TRACKER_DEVICE_MISSES`
//! to also print every missed User-Agent.
#![cfg(feature = "uaparser")]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use auth_tracker::agent::{DeviceType, UserAgentParser, uaparser::UaParser};

const FIXTURES_VAR: &str = "AUTH_TRACKER_DEVICE_FIXTURES";

/// Accuracy below which the test fails, for each file.
const MIN_ACCURACY: f64 = 0.92;

/// Classes of the labels, in the order the per-class table prints them. `none` is a
/// User-Agent that [`UaParser`] leaves unclassified.
const CLASSES: &[&str] = &[
    "desktop", "phone", "tablet", "tv", "console", "wearable", "bot", "other", "none",
];

#[derive(serde::Deserialize)]
struct LabelledUserAgent {
    user_agent: String,
    device_type: String,
}

fn is_correct(expected: &str, actual: Option<DeviceType>) -> bool {
    match expected {
        "not-mobile" => !matches!(actual, Some(DeviceType::Phone | DeviceType::Tablet)),
        label => actual.map(DeviceType::as_str) == Some(label),
    }
}

/// Counts of one class in one file.
#[derive(Clone, Copy, Debug, Default)]
struct ClassCounts {
    /// Rows labelled with the class and classified as it.
    true_positives: usize,
    /// Rows labelled with the class.
    labelled: usize,
    /// Rows classified as the class whose label is another definite class, or
    /// `not-mobile` for the classes `phone` and `tablet`.
    false_positives: usize,
}

impl ClassCounts {
    /// Returns the precision, or `None` when nothing was classified as the class.
    fn precision(self) -> Option<f64> {
        let predicted = self.true_positives + self.false_positives;
        (predicted > 0).then(|| self.true_positives as f64 / predicted as f64)
    }

    /// Returns the recall, or `None` when no row carries the class.
    fn recall(self) -> Option<f64> {
        (self.labelled > 0).then(|| self.true_positives as f64 / self.labelled as f64)
    }
}

/// Adds one row to the per-class counts.
///
/// A `not-mobile` row has no single expected class, so it only counts as a false
/// positive of `phone` or `tablet` when classified as one of them.
fn count_row(counts: &mut BTreeMap<&'static str, ClassCounts>, expected: &str, actual: &str) {
    let Some(&actual) = CLASSES.iter().find(|class| **class == actual) else {
        panic!("classifier returned {actual:?}, which is not in CLASSES");
    };
    if expected == "not-mobile" {
        if matches!(actual, "phone" | "tablet") {
            counts.entry(actual).or_default().false_positives += 1;
        }
        return;
    }
    let Some(&expected) = CLASSES.iter().find(|class| **class == expected) else {
        panic!("invalid label {expected:?}: expected one of {CLASSES:?} or \"not-mobile\"");
    };
    counts.entry(expected).or_default().labelled += 1;
    if expected == actual {
        counts.entry(expected).or_default().true_positives += 1;
    } else {
        counts.entry(actual).or_default().false_positives += 1;
    }
}

fn format_ratio(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |value| format!("{value:.3}"))
}

/// Writes the per-class table of one file to stderr, one class a line.
fn print_class_table(counts: &BTreeMap<&'static str, ClassCounts>) {
    let mut stderr = std::io::stderr();
    let _ = writeln!(
        stderr,
        "    {:<9} {:>8} {:>9} {:>9} {:>7}",
        "class", "labelled", "predicted", "precision", "recall"
    );
    for class in CLASSES {
        let Some(&class_counts) = counts.get(class) else {
            continue;
        };
        let predicted = class_counts.true_positives + class_counts.false_positives;
        let _ = writeln!(
            stderr,
            "    {class:<9} {:>8} {predicted:>9} {:>9} {:>7}",
            class_counts.labelled,
            format_ratio(class_counts.precision()),
            format_ratio(class_counts.recall()),
        );
    }
}

fn fixture_files(folder: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(folder)
        .unwrap_or_else(|error| panic!("failed to read {}: {error}", folder.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
        .collect();
    files.sort();
    files
}

#[test]
fn device_type_accuracy_per_set() {
    let Some(folder) = std::env::var_os(FIXTURES_VAR) else {
        // Written past the test harness's output capture, so the skip is visible.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: device-type accuracy not measured: set {FIXTURES_VAR} to a folder of labelled *.jsonl files ***\n"
        );
        return;
    };
    let files = fixture_files(Path::new(&folder));
    assert!(
        !files.is_empty(),
        "no *.jsonl file in {}",
        Path::new(&folder).display()
    );

    let parser = UaParser;
    let mut failing_sets = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file)
            .unwrap_or_else(|error| panic!("failed to read {}: {error}", file.display()));
        let mut total = 0_usize;
        let mut correct = 0_usize;
        let mut misses: BTreeMap<(String, &'static str), usize> = BTreeMap::new();
        let mut class_counts: BTreeMap<&'static str, ClassCounts> = BTreeMap::new();
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let row: LabelledUserAgent = serde_json::from_str(line).unwrap_or_else(|error| {
                panic!(
                    "invalid JSON on line {} of {}: {error}",
                    index + 1,
                    file.display()
                )
            });
            let actual = parser.parse(&row.user_agent).device_type;
            total += 1;
            count_row(
                &mut class_counts,
                &row.device_type,
                actual.map_or("none", DeviceType::as_str),
            );
            if is_correct(&row.device_type, actual) {
                correct += 1;
            } else {
                let actual = actual.map_or("none", DeviceType::as_str);
                *misses.entry((row.device_type.clone(), actual)).or_default() += 1;
                if std::env::var_os("AUTH_TRACKER_DEVICE_MISSES").is_some() {
                    println!("miss {} -> {actual}: {}", row.device_type, row.user_agent);
                }
            }
        }

        let accuracy = correct as f64 / total as f64;
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        let _ = writeln!(
            std::io::stderr(),
            "{name}: {correct}/{total} correct, accuracy {accuracy:.3}"
        );
        print_class_table(&class_counts);
        let mut misses: Vec<_> = misses.into_iter().collect();
        misses.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
        for ((expected, actual), count) in misses.iter().take(8) {
            println!("    expected {expected}, got {actual}: {count}");
        }
        if accuracy < MIN_ACCURACY {
            failing_sets.push(format!("{name} ({accuracy:.3})"));
        }
    }
    assert!(
        failing_sets.is_empty(),
        "device-type accuracy below {MIN_ACCURACY}: {}",
        failing_sets.join(", ")
    );
}
