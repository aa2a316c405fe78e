//! Placeholder; replaced by the client IP resolver.
