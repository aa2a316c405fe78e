//! User-Agent Client Hints (`Sec-CH-UA-*` request headers).

use std::sync::Arc;

use super::{DeviceType, ParsedUserAgent};

/// Client Hints of a request, parsed from the `Sec-CH-UA-*` headers.
///
/// Chromium browsers send `Sec-CH-UA-Mobile` and `Sec-CH-UA-Platform` on every request,
/// and `Sec-CH-UA-Model` and `Sec-CH-UA-Platform-Version` only after the server asked
/// for them with `Accept-CH`. A `None` field is a header that was absent or invalid.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHints {
    /// `Sec-CH-UA-Mobile`: whether the browser wants a mobile experience.
    pub mobile: Option<bool>,
    /// `Sec-CH-UA-Platform`, unquoted, such as `Windows` or `Android`.
    pub platform: Option<String>,
    /// `Sec-CH-UA-Model`, unquoted, such as `Pixel 7`. An empty model is `None`.
    pub model: Option<String>,
    /// `Sec-CH-UA-Platform-Version`, unquoted, such as `15.0.0`.
    pub platform_version: Option<String>,
}

impl ClientHints {
    /// Parses the raw values of `Sec-CH-UA-Mobile`, `Sec-CH-UA-Platform` and
    /// `Sec-CH-UA-Model`.
    ///
    /// `mobile` is a structured-field boolean (`?1` or `?0`), and the other two are
    /// structured-field strings in double quotes, with `\"` and `\\` escapes. An absent,
    /// empty or malformed value becomes `None`.
    ///
    /// ```no_run
    /// use auth_tracker::agent::ClientHints;
    ///
    /// let hints = ClientHints::from_headers(Some("?1"), Some("\"Android\""), Some("\"Pixel 7\""));
    /// assert_eq!(hints.mobile, Some(true));
    /// assert_eq!(hints.platform.as_deref(), Some("Android"));
    /// assert_eq!(hints.model.as_deref(), Some("Pixel 7"));
    /// ```
    pub fn from_headers(mobile: Option<&str>, platform: Option<&str>, model: Option<&str>) -> Self {
        Self {
            mobile: mobile.and_then(parse_sf_boolean),
            platform: platform.and_then(parse_sf_string),
            model: model.and_then(parse_sf_string),
            platform_version: None,
        }
    }

    /// Sets [`platform_version`](Self::platform_version) from the raw value of
    /// `Sec-CH-UA-Platform-Version`, a structured-field string.
    pub fn with_platform_version(mut self, platform_version: Option<&str>) -> Self {
        self.platform_version = platform_version.and_then(parse_sf_string);
        self
    }

    /// Returns `true` when no hint is set.
    pub fn is_empty(&self) -> bool {
        self.mobile.is_none()
            && self.platform.is_none()
            && self.model.is_none()
            && self.platform_version.is_none()
    }

    /// Refines a parsed User-Agent with these hints, and returns `parsed` itself when
    /// nothing changes.
    ///
    /// - `mobile`: `?1` makes the device a phone unless it was classified as a tablet,
    ///   TV, console, wearable or bot. `?0` on an unclassified device makes it a desktop,
    ///   or a tablet when the platform is Android.
    /// - `platform` replaces the parsed platform when they differ, for example a
    ///   desktop-mode request from an Android phone, and then drops the User-Agent's
    ///   platform version, which belongs to the other platform. Names map to uap-core's
    ///   families (`macOS` to `Mac OS X`, `Chromium OS` to `Chrome OS`).
    /// - `platform_version` replaces the frozen version of a reduced User-Agent, such as
    ///   `Windows NT 10.0` for Windows 11. On Windows, 13 and later is Windows 11 and
    ///   1 to 12 is Windows 10.
    /// - `model` replaces the device when the User-Agent names none or a reduced one (the
    ///   `K` of Chrome's reduced Android User-Agent).
    pub fn refine(&self, parsed: Arc<ParsedUserAgent>) -> Arc<ParsedUserAgent> {
        if self.is_empty() {
            return parsed;
        }
        let mut refined = (*parsed).clone();
        self.refine_platform(&mut refined);
        self.refine_device_type(&mut refined);
        self.refine_model(&mut refined);
        if refined == *parsed {
            parsed
        } else {
            Arc::new(refined)
        }
    }

    fn refine_platform(&self, parsed: &mut ParsedUserAgent) {
        let Some(platform) = self.platform.as_deref().and_then(uap_platform_family) else {
            return;
        };
        if parsed.platform.as_deref() != Some(platform) {
            parsed.platform = Some(platform.to_owned());
            parsed.platform_version = None;
        }
        if let Some(version) = self.platform_version.as_deref() {
            parsed.platform_version = platform_version_name(platform, version);
        }
    }

    fn refine_device_type(&self, parsed: &mut ParsedUserAgent) {
        match self.mobile {
            Some(true) => match parsed.device_type {
                Some(
                    DeviceType::Tablet
                    | DeviceType::Tv
                    | DeviceType::Console
                    | DeviceType::Wearable
                    | DeviceType::Bot,
                ) => {}
                _ => parsed.device_type = Some(DeviceType::Phone),
            },
            Some(false) if parsed.device_type.is_none() => {
                parsed.device_type = if parsed.platform.as_deref() == Some("Android") {
                    Some(DeviceType::Tablet)
                } else {
                    Some(DeviceType::Desktop)
                };
            }
            _ => {}
        }
    }

    fn refine_model(&self, parsed: &mut ParsedUserAgent) {
        let Some(model) = self.model.as_deref() else {
            return;
        };
        let reduced = match parsed.device.as_deref() {
            None => true,
            Some(device) => REDUCED_DEVICES.contains(&device),
        };
        if reduced {
            parsed.device = Some(model.to_owned());
        }
    }
}

/// Device families that uap-core reports for User-Agents without a real model: Chrome's
/// reduced `Android 10; K` and its generic fallbacks.
const REDUCED_DEVICES: &[&str] = &[
    "K",
    "Generic Smartphone",
    "Generic Tablet",
    "Generic Feature Phone",
];

/// Maps a `Sec-CH-UA-Platform` value to uap-core's OS family, or `None` for `Unknown`.
fn uap_platform_family(platform: &str) -> Option<&str> {
    match platform {
        "" | "Unknown" => None,
        "macOS" => Some("Mac OS X"),
        "Chromium OS" | "Chrome OS" => Some("Chrome OS"),
        other => Some(other),
    }
}

/// Returns the platform version to show for a `Sec-CH-UA-Platform-Version` value.
///
/// Windows reports its UI contract version rather than a product version, so it maps to
/// `11` (13 and later), `10` (1 to 12) or `None` (0, which covers 7, 8 and 8.1). Other
/// platforms keep the version without its trailing `.0` parts.
fn platform_version_name(platform: &str, version: &str) -> Option<String> {
    let version = version.trim();
    if platform == "Windows" {
        let major: u32 = version.split('.').next()?.parse().ok()?;
        return match major {
            0 => None,
            1..=12 => Some("10".to_owned()),
            _ => Some("11".to_owned()),
        };
    }
    let mut trimmed = version;
    while let Some(rest) = trimmed.strip_suffix(".0") {
        // A space before the `.0` would otherwise end the stored version.
        trimmed = rest.trim_end();
    }
    if trimmed.is_empty() || trimmed == "0" {
        None
    } else {
        Some(trimmed.to_owned())
    }
}

/// Parses a structured-field boolean (RFC 8941): `?1` or `?0`.
fn parse_sf_boolean(value: &str) -> Option<bool> {
    match value.trim() {
        "?1" => Some(true),
        "?0" => Some(false),
        _ => None,
    }
}

/// Parses a structured-field string (RFC 8941) and returns `None` for an empty or
/// malformed one.
fn parse_sf_string(value: &str) -> Option<String> {
    let inner = value.trim().strip_prefix('"')?.strip_suffix('"')?;
    let mut unquoted = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped @ ('"' | '\\')) => unquoted.push(escaped),
                _ => return None,
            },
            '"' => return None,
            ' '..='~' => unquoted.push(c),
            _ => return None,
        }
    }
    let unquoted = unquoted.trim();
    if unquoted.is_empty() {
        None
    } else {
        Some(unquoted.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sf_boolean_values() {
        assert_eq!(parse_sf_boolean("?1"), Some(true));
        assert_eq!(parse_sf_boolean(" ?0 "), Some(false));
        assert_eq!(parse_sf_boolean("1"), None);
        assert_eq!(parse_sf_boolean("true"), None);
    }

    #[test]
    fn sf_string_values() {
        assert_eq!(parse_sf_string("\"Windows\"").as_deref(), Some("Windows"));
        assert_eq!(
            parse_sf_string(r#""a \"b\" \\c""#).as_deref(),
            Some(r#"a "b" \c"#)
        );
        assert_eq!(parse_sf_string("\"\""), None);
        assert_eq!(parse_sf_string("Windows"), None);
        assert_eq!(parse_sf_string("\"unterminated"), None);
        assert_eq!(parse_sf_string(r#""bad \x escape""#), None);
        assert_eq!(parse_sf_string("\"caf\u{e9}\""), None);
    }

    #[test]
    fn windows_platform_versions() {
        assert_eq!(
            platform_version_name("Windows", "15.0.0").as_deref(),
            Some("11")
        );
        assert_eq!(
            platform_version_name("Windows", "10.0.0").as_deref(),
            Some("10")
        );
        assert_eq!(platform_version_name("Windows", "0.3.0"), None);
        assert_eq!(platform_version_name("Windows", "garbage"), None);
    }

    #[test]
    fn other_platform_versions() {
        assert_eq!(
            platform_version_name("Mac OS X", "14.2.1").as_deref(),
            Some("14.2.1")
        );
        assert_eq!(
            platform_version_name("Android", "14.0.0").as_deref(),
            Some("14")
        );
        assert_eq!(platform_version_name("Android", "0.0.0"), None);
    }

    #[test]
    fn platform_version_with_space_is_trimmed() {
        assert_eq!(
            platform_version_name("Android", "14 .0").as_deref(),
            Some("14")
        );
        assert_eq!(
            platform_version_name("Linux", "6.1 .0 .0").as_deref(),
            Some("6.1")
        );
        assert_eq!(platform_version_name("Android", " .0"), None);
    }
}
