//! The IP2Location LITE DB3 CSV importer's row parser, for IPv4 and IPv6 files.
//!
//! Raw files check that nothing panics, that accepted rows are valid sorted ranges and
//! that every error names a line. Generated files of valid ranges must import unchanged,
//! and one fault in a row must be reported at that row's line.

#![no_main]

use arbitrary::Arbitrary;
use auth_tracker::__fuzz::{self, Ip2LocationRow};
use auth_tracker::geo::ip2location::{Ip2LocationError, IpFamily};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Input {
    Raw { v6: bool, csv: Vec<u8> },
    Generated(Generated),
}

#[derive(Arbitrary, Debug)]
struct Generated {
    v6: bool,
    rows: Vec<Row>,
    crlf: bool,
    fault: Option<(u8, Fault)>,
}

#[derive(Arbitrary, Debug)]
struct Row {
    /// Distance from the end of the previous range (at least 1) or from 0.
    gap: u128,
    /// Addresses in the range, minus one.
    span: u128,
    fields: [String; 4],
    quote_numbers: bool,
    quote_fields: bool,
}

/// One fault in one row, which must fail the import at that row's line.
#[derive(Arbitrary, Debug)]
enum Fault {
    /// A number that is not plain decimal digits.
    NotDecimal { to: bool, choice: u8 },
    /// A number beyond the family's largest.
    TooLarge { to: bool },
    /// `ip_from` above `ip_to`.
    Reversed,
    /// A range that starts at or before the end of the previous one.
    Overlap { back: u8 },
    /// Fewer or more than 6 fields.
    FieldCount(u8),
    /// Bytes that are not UTF-8 in a location field.
    InvalidUtf8(u8),
}

fuzz_target!(|input: Input| match input {
    Input::Raw { v6, csv } => check_raw(family(v6), &csv),
    Input::Generated(generated) => check_generated(&generated),
});

fn family(v6: bool) -> IpFamily {
    if v6 { IpFamily::V6 } else { IpFamily::V4 }
}

fn max_number(family: IpFamily) -> u128 {
    match family {
        IpFamily::V4 => u128::from(u32::MAX),
        IpFamily::V6 => u128::MAX,
    }
}

fn check_raw(family: IpFamily, csv: &[u8]) {
    match __fuzz::read_ip2location_csv(csv, family) {
        Ok(rows) => check_ranges(family, &rows),
        Err(error) => {
            let line = error_line(&error);
            let lines = line_breaks(csv) + 1;
            assert!(line <= lines, "line {line} of {lines}: {error}");
        }
    }
}

/// Counts the line breaks of `bytes`: `\r\n`, `\n` or a lone `\r`, as the CSV reader
/// ends records at each.
fn line_breaks(bytes: &[u8]) -> u64 {
    let mut breaks = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        let crlf_end = byte == b'\n' && index > 0 && bytes[index - 1] == b'\r';
        if (byte == b'\n' || byte == b'\r') && !crlf_end {
            breaks += 1;
        }
    }
    breaks
}

/// Checks that rows are valid ranges of the family, sorted and without overlaps.
fn check_ranges(family: IpFamily, rows: &[Ip2LocationRow]) {
    let mut previous_to = None;
    for row in rows {
        assert!(row.ip_from <= row.ip_to, "{row:?}");
        assert!(row.ip_to <= max_number(family), "{row:?}");
        if let Some(previous_to) = previous_to {
            assert!(row.ip_from > previous_to, "{row:?} overlaps {previous_to}");
        }
        previous_to = Some(row.ip_to);
    }
}

/// Checks that an error of an in-memory file is an invalid row whose message names its
/// line, and returns the line.
fn error_line(error: &Ip2LocationError) -> u64 {
    let Ip2LocationError::InvalidRow { line, problem } = error else {
        panic!("an in-memory file failed without naming a row: {error:?}");
    };
    assert!(*line >= 1, "line {line}");
    assert!(!problem.is_empty());
    let message = error.to_string();
    assert!(message.contains(&format!("line {line}:")), "{message}");
    *line
}

/// Returns a number from `0` to `limit` out of `raw`: a small one when its lowest bit is
/// set, so that rows are close together, and any one otherwise.
fn bounded(raw: u128, limit: u128) -> u128 {
    let value = raw >> 1;
    let modulus = if raw & 1 == 1 {
        limit.min(999) + 1
    } else {
        match limit.checked_add(1) {
            Some(modulus) => modulus,
            None => return value,
        }
    };
    value % modulus
}

/// Formats a field as CSV text, quoted on request or when its content needs it.
fn field_text(field: &str, quote: bool) -> String {
    let needs_quotes =
        field.is_empty() || field.starts_with('"') || field.contains([',', '"', '\n', '\r']);
    if quote || needs_quotes {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

fn check_generated(input: &Generated) {
    let family = family(input.v6);
    let max = max_number(family);

    // Valid sorted ranges, as many as fit below the family's largest number.
    let mut ranges = Vec::new();
    let mut next_from = 0_u128;
    for row in &input.rows {
        let gap = bounded(row.gap, max - next_from);
        let from = next_from + gap;
        let to = from + bounded(row.span, max - from);
        ranges.push((from, to, row));
        let Some(after) = to.checked_add(1).filter(|after| *after <= max) else {
            break;
        };
        next_from = after;
    }

    let fault_row = input
        .fault
        .as_ref()
        .map(|(index, fault)| (usize::from(*index) % ranges.len().max(1), fault))
        .filter(|_| !ranges.is_empty());

    let terminator: &[u8] = if input.crlf { b"\r\n" } else { b"\n" };
    let mut csv: Vec<u8> = Vec::new();
    let mut expected_line = None;
    let mut line = 1_u64;
    for (index, (from, to, row)) in ranges.iter().enumerate() {
        let mut numbers = [from.to_string(), to.to_string()];
        let mut fields: Vec<Vec<u8>> = row
            .fields
            .iter()
            .map(|field| field_text(field, row.quote_fields).into_bytes())
            .collect();
        if let Some((fault_index, fault)) = fault_row
            && fault_index == index
        {
            let Some(applied) =
                apply_fault(fault, family, index, &ranges, &mut numbers, &mut fields)
            else {
                return;
            };
            if applied {
                expected_line = Some(line);
            }
        }
        let numbers = numbers.map(|number| field_text(&number, row.quote_numbers).into_bytes());
        let record = [numbers.to_vec(), fields].concat().join(&b","[..]);
        line += line_breaks(&record) + 1;
        csv.extend_from_slice(&record);
        csv.extend_from_slice(terminator);
    }

    let result = __fuzz::read_ip2location_csv(&csv, family);
    let text = String::from_utf8_lossy(&csv);
    if ranges.is_empty() {
        let error = result.expect_err("an empty file is rejected");
        assert_eq!(error_line(&error), 1, "{error}");
        return;
    }
    match (expected_line, result) {
        (None, Ok(rows)) => {
            assert_eq!(rows.len(), ranges.len(), "{text}");
            for (row, (from, to, generated)) in rows.iter().zip(&ranges) {
                assert_eq!((row.ip_from, row.ip_to), (*from, *to), "{text}");
                assert_eq!(row.fields, generated.fields, "fields changed: {text}");
            }
        }
        (None, Err(error)) => panic!("valid file rejected: {error}\n{text}"),
        (Some(line), Ok(_)) => panic!("fault at line {line} accepted:\n{text}"),
        (Some(line), Err(error)) => {
            assert_eq!(error_line(&error), line, "{error}\n{text}");
        }
    }
}

/// Applies `fault` to the row at `index`. Returns `Some(false)` when the fault does not
/// apply to this row, and `None` when the file can no longer be checked.
fn apply_fault(
    fault: &Fault,
    family: IpFamily,
    index: usize,
    ranges: &[(u128, u128, &Row)],
    numbers: &mut [String; 2],
    fields: &mut Vec<Vec<u8>>,
) -> Option<bool> {
    let (from, to, _) = ranges[index];
    match fault {
        Fault::NotDecimal { to: on_to, choice } => {
            let bad = ["", "+5", "-5", " 5", "5 ", "5.0", "0x10", "1e3", "５"];
            numbers[usize::from(*on_to)] = bad[usize::from(*choice) % bad.len()].to_owned();
        }
        Fault::TooLarge { to: on_to } => {
            let too_large = match family {
                IpFamily::V4 => "4294967296",
                IpFamily::V6 => "340282366920938463463374607431768211456",
            };
            numbers[usize::from(*on_to)] = too_large.to_owned();
        }
        Fault::Reversed => {
            if from == to {
                return Some(false);
            }
            numbers.swap(0, 1);
        }
        Fault::Overlap { back } => {
            if index == 0 {
                return Some(false);
            }
            let previous_to = ranges[index - 1].1;
            let start = previous_to.saturating_sub(u128::from(*back));
            numbers[0] = start.to_string();
            numbers[1] = start.max(to).to_string();
        }
        Fault::FieldCount(count) => {
            let count = usize::from(*count % 8);
            if count == 4 {
                return Some(false);
            }
            fields.resize(count, b"x".to_vec());
        }
        Fault::InvalidUtf8(field) => {
            fields[usize::from(*field) % 4] = vec![b'"', 0xff, b'"'];
        }
    }
    Some(true)
}
