//! Placeholder; replaced by the provider implementation.
