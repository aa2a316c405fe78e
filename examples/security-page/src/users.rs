//! The demo's two accounts and the axum-login backend that signs them in.

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::Arc;

use auth_tracker::AuthTracking;
use axum_login::{AuthUser, AuthnBackend, UserId};
use serde::Deserialize;
use tokio::sync::Semaphore;

/// A demo account. The password hash is the axum-login session hash, so changing a
/// password would end every session of the user.
#[derive(Clone, AuthTracking)]
#[auth_tracking(id = id, user_type = "User", parser = uaparser, ip_provider = configured)]
pub struct User {
    /// Numeric key, stored in `logins.user_id`.
    pub id: i64,
    /// Sign-in name.
    pub email: String,
    password_hash: String,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("password_hash", &"[redacted]")
            .finish()
    }
}

impl AuthUser for User {
    type Id = i64;

    fn id(&self) -> i64 {
        self.id
    }

    fn session_auth_hash(&self) -> &[u8] {
        self.password_hash.as_bytes()
    }
}

/// Email and password from the sign-in form.
#[derive(Clone, Deserialize)]
pub struct Credentials {
    /// Sign-in name.
    pub email: String,
    /// Password in clear, checked against the Argon2 hash and then dropped.
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("email", &self.email)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// The seeded accounts: `(email, password)`.
pub const DEMO_ACCOUNTS: [(&str, &str); 2] = [
    ("alice@example.com", "alice-password"),
    ("bob@example.com", "bob-password"),
];

/// In-memory user directory with the two demo accounts.
#[derive(Clone)]
pub struct Users {
    users: Arc<Vec<User>>,
    /// Hash checked when the email is unknown, so both cases take the same time.
    decoy_hash: Arc<str>,
    verifications: VerificationLimit,
}

impl fmt::Debug for Users {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Users")
            .field("users", &self.users)
            .finish_non_exhaustive()
    }
}

impl Users {
    /// Seeds the demo accounts with freshly salted Argon2 hashes.
    pub fn seeded() -> Self {
        let users = DEMO_ACCOUNTS
            .iter()
            .zip(1..)
            .map(|((email, password), id)| User {
                id,
                email: (*email).to_owned(),
                password_hash: password_auth::generate_hash(password),
            })
            .collect();
        Self {
            users: Arc::new(users),
            decoy_hash: password_auth::generate_hash("decoy password").into(),
            verifications: VerificationLimit::per_core(),
        }
    }

    fn by_email(&self, email: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|user| user.email.eq_ignore_ascii_case(email.trim()))
    }
}

/// Semaphore that caps how many blocking jobs run at once on Tokio's blocking threads.
///
/// Each Argon2 verification allocates 19 MiB and keeps a core busy, so running more at
/// once than there are cores adds memory and latency but no throughput. Clones share
/// one semaphore.
#[derive(Clone, Debug)]
struct VerificationLimit {
    permits: Arc<Semaphore>,
}

impl VerificationLimit {
    fn new(max: NonZeroUsize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max.get())),
        }
    }

    /// Limits jobs to the number of cores `std::thread::available_parallelism` reports,
    /// or to one when it reports an error.
    fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN))
    }

    /// Waits for a permit, then runs `job` on a blocking thread and returns its result.
    /// The permit is released when `job` returns, also when the caller has stopped
    /// waiting for it (a client that disconnects during its sign-in, for example).
    async fn run<T, F>(&self, job: F) -> Result<T, tokio::task::JoinError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .expect("the verification semaphore is never closed");
        tokio::task::spawn_blocking(move || {
            let result = job();
            drop(permit);
            result
        })
        .await
    }
}

/// Error of the demo's authentication backend.
#[derive(Debug, thiserror::Error)]
#[error("password check failed: {0}")]
pub struct BackendError(#[from] tokio::task::JoinError);

impl AuthnBackend for Users {
    type User = User;
    type Credentials = Credentials;
    type Error = BackendError;

    async fn authenticate(&self, credentials: Credentials) -> Result<Option<User>, BackendError> {
        let user = self.by_email(&credentials.email).cloned();
        let hash = user.as_ref().map_or_else(
            || self.decoy_hash.to_string(),
            |user| user.password_hash.clone(),
        );
        // Argon2 takes tens of milliseconds, so it runs off the async executor.
        let verified = self
            .verifications
            .run(move || password_auth::verify_password(credentials.password, &hash).is_ok())
            .await?;
        Ok(user.filter(|_| verified))
    }

    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<User>, BackendError> {
        Ok(self.users.iter().find(|user| user.id == *id).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_debug_hides_password_hashes() {
        let users = Users::seeded();
        let debug = format!("{users:?}");
        for user in users.users.iter() {
            assert!(
                !debug.contains(&user.password_hash),
                "a password hash shows in {debug}"
            );
        }
        assert!(!debug.contains(&*users.decoy_hash), "{debug}");
        assert!(debug.contains("alice@example.com"), "{debug}");
    }

    #[test]
    fn credentials_debug_hides_password() {
        let credentials = Credentials {
            email: "alice@example.com".to_owned(),
            password: "alice-password".to_owned(),
        };
        let debug = format!("{credentials:?}");
        assert!(!debug.contains("alice-password"), "{debug}");
        assert!(debug.contains("[redacted]"), "{debug}");
    }

    #[test]
    fn verification_limit_follows_cores() {
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        let limit = VerificationLimit::per_core();
        assert_eq!(limit.permits.available_permits(), cores);
        let users = Users::seeded();
        assert_eq!(users.verifications.permits.available_permits(), cores);
    }

    /// Runs 8 jobs through a limit of 2. Jobs meet in pairs on a barrier, so 2 run at
    /// once, then sleep 20 ms. Without the limit, all 8 would start on their own
    /// blocking threads, and more than 2 would almost surely overlap.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn verification_limit_bounds_concurrent_jobs() {
        use std::sync::atomic::{AtomicUsize, Ordering};

        const MAX: usize = 2;
        const JOBS: usize = 4 * MAX;
        let limit = VerificationLimit::new(NonZeroUsize::new(MAX).unwrap());
        let running = Arc::new(AtomicUsize::new(0));
        let max_running = Arc::new(AtomicUsize::new(0));
        let pairs = Arc::new(std::sync::Barrier::new(MAX));

        let mut tasks = tokio::task::JoinSet::new();
        for job in 0..JOBS {
            let (limit, running, max_running, pairs) = (
                limit.clone(),
                running.clone(),
                max_running.clone(),
                pairs.clone(),
            );
            tasks.spawn(async move {
                limit
                    .run(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        max_running.fetch_max(now, Ordering::SeqCst);
                        pairs.wait();
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        running.fetch_sub(1, Ordering::SeqCst);
                        job
                    })
                    .await
            });
        }
        let mut finished = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            finished.push(joined.unwrap().unwrap());
        }
        finished.sort_unstable();

        assert_eq!(finished, (0..JOBS).collect::<Vec<_>>());
        assert_eq!(max_running.load(Ordering::SeqCst), MAX);
        assert_eq!(limit.permits.available_permits(), MAX);
    }

    /// A caller that stops waiting keeps the permit taken until its job returns.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn verification_limit_keeps_permit_of_dropped_caller() {
        let limit = VerificationLimit::new(NonZeroUsize::MIN);
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();

        let caller = tokio::spawn({
            let limit = limit.clone();
            async move {
                limit
                    .run(move || {
                        started_tx.send(()).unwrap();
                        release_rx.recv().unwrap();
                    })
                    .await
            }
        });
        tokio::task::spawn_blocking(move || started_rx.recv().unwrap())
            .await
            .unwrap();
        caller.abort();
        assert!(caller.await.unwrap_err().is_cancelled());
        assert_eq!(limit.permits.available_permits(), 0);

        release_tx.send(()).unwrap();
        let second = limit.run(|| "second job").await.unwrap();
        assert_eq!(second, "second job");
        assert_eq!(limit.permits.available_permits(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn authenticate_checks_password_and_email() {
        let users = Users::seeded();
        let attempt = |email: &str, password: &str| Credentials {
            email: email.to_owned(),
            password: password.to_owned(),
        };

        let alice = users
            .authenticate(attempt("alice@example.com", "alice-password"))
            .await
            .unwrap();
        assert_eq!(alice.map(|user| user.id), Some(1));

        let wrong_password = users
            .authenticate(attempt("alice@example.com", "bob-password"))
            .await
            .unwrap();
        assert!(wrong_password.is_none());

        // An unknown email is checked against the decoy hash, and matching it signs no
        // user in.
        let unknown = users
            .authenticate(attempt("carol@example.com", "decoy password"))
            .await
            .unwrap();
        assert!(unknown.is_none());
    }
}
