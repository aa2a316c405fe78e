//! Recording logins: session sign-ins, personal API tokens and application tokens, and
//! the enrichment and events that follow.

use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

use super::{Enrichment, ResolvedProvider, Tracker, is_public_ip, now_utc};
use crate::context::{RequestContext, truncate_on_char_boundary};
// Without axum, only doc links name `Error`, and rustc does not count them.
#[cfg_attr(not(feature = "axum"), allow(unused_imports))]
use crate::error::{Error, Result};
use crate::events::{GeolocationFailed, Listeners, NewLogin, TokenCreated};
use crate::model::{Login, LoginId, LoginKind, Owner};
use crate::secret::{PlainToken, hash_secret};
use crate::store::{LoginRow, NewLogin as NewRow};
use crate::table::validate_table_name;

/// Options of a session sign-in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoginOptions {
    /// Issue a remember-me cookie for this login, so it outlives its session until
    /// [`remember_lifetime`](crate::TrackerConfig::remember_lifetime).
    pub remember: bool,
    /// Device label shown in listings.
    pub name: Option<String>,
}

impl LoginOptions {
    /// Options with remember-me on or off.
    pub fn remember(remember: bool) -> Self {
        Self {
            remember,
            name: None,
        }
    }
}

/// A personal API token just created: its login and the token in clear.
///
/// The clear token exists only here. Hand it to the user once: only its hash is stored.
#[derive(Clone)]
pub struct NewToken {
    /// The token's login, listed like any other.
    pub login: Login,
    /// The token, `<login id>|<secret>`, for `Authorization: Bearer`.
    pub token: PlainToken,
}

impl fmt::Debug for NewToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewToken")
            .field("login", &self.login)
            .field("token", &self.token)
            .finish()
    }
}

/// Secret-bearing columns of a new row, all hashes but the session id.
#[derive(Default)]
pub(super) struct RowSecrets {
    pub(super) session_id: Option<String>,
    pub(super) token_hash: Option<String>,
    pub(super) remember_selector: Option<String>,
    pub(super) remember_verifier_hash: Option<String>,
}

/// Identity, owner, secrets and expiry of a new row, apart from its enrichment.
pub(super) struct RowSpec {
    pub(super) id: LoginId,
    pub(super) owner: Owner,
    pub(super) kind: LoginKind,
    pub(super) name: Option<String>,
    pub(super) secrets: RowSecrets,
    pub(super) expires_at: Option<NaiveDateTime>,
}

impl Tracker {
    /// Records a session login: cycles the session id, stores the login in the session,
    /// inserts the row with the final session id and makes it the current login. With
    /// [`LoginOptions::remember`], the layer also sets the remember-me cookie.
    ///
    /// # Errors
    ///
    /// [`Error::NoSession`], session-store errors and database errors. Enrichment never
    /// fails the call: a User-Agent the parser does not know leaves the device columns
    /// empty, and geolocation runs afterwards.
    #[cfg(feature = "axum")]
    #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
    #[tracing::instrument(level = "debug", skip_all, fields(user.id = %owner.user_id, login.id), err)]
    pub async fn record_session_login(
        &self,
        table: &str,
        owner: Owner,
        enrichment: Enrichment,
        tracking: &crate::Tracking,
        options: LoginOptions,
    ) -> Result<Login> {
        use crate::secret::RememberToken;

        let table = validate_table_name(table)?.to_owned();
        let session = tracking.session().ok_or(Error::NoSession)?.clone();
        let id = LoginId::new();
        tracing::Span::current().record("login.id", tracing::field::display(id));
        let current = crate::CurrentLogin {
            id,
            table: table.clone(),
        };

        // A sign-in over a session that already contains a login ends that login below, so
        // the browser is not listed twice.
        let previous = session
            .get::<crate::CurrentLogin>(super::SESSION_KEY)
            .await
            .ok()
            .flatten();

        // A new session id on every sign-in defeats session fixation, also when the
        // session was already signed in as someone else.
        session.cycle_id().await?;
        session.insert(super::SESSION_KEY, &current).await?;
        session.save().await?;

        let now = now_utc();
        let mut secrets = RowSecrets {
            session_id: session.id().map(|session_id| session_id.to_string()),
            ..RowSecrets::default()
        };
        let mut remember_token = None;
        let lifetime = if options.remember {
            let (token, verifier_hash) = RememberToken::generate();
            secrets.remember_selector = Some(token.selector.clone());
            secrets.remember_verifier_hash = Some(verifier_hash);
            remember_token = Some(token);
            Some(self.config.remember_lifetime)
        } else {
            self.config.session_lifetime
        };
        let spec = RowSpec {
            id,
            owner,
            kind: LoginKind::Session,
            name: options.name,
            secrets,
            expires_at: expiry(now, lifetime),
        };

        let recorded = self
            .insert_login(&table, spec, enrichment, tracking.request(), now)
            .await;
        match &recorded {
            Ok(_) => {
                tracking.set_current(Some(current));
                if let Some(previous) = previous {
                    self.end_replaced_login(&previous, id).await;
                }
                if let Some(token) = remember_token {
                    tracking.set_remember_cookie(crate::tracking::RememberCookie::Set(
                        token.cookie_value(),
                    ));
                }
            }
            Err(_) => {
                if let Err(remove_error) = session.remove_value(super::SESSION_KEY).await {
                    tracing::warn!(error = %remove_error, "failed to unbind a login that was not recorded");
                }
            }
        }
        recorded
    }

    /// Revokes the login a session held before a new sign-in replaced it. Failures are
    /// logged: the old login can no longer authenticate through this session anyway.
    #[cfg(feature = "axum")]
    async fn end_replaced_login(&self, previous: &crate::CurrentLogin, replaced_by: LoginId) {
        let login = match self.find_login(&previous.table, previous.id, None).await {
            Ok(Some(login)) if login.revoked_at.is_none() => login,
            Ok(_) => return,
            Err(error) => {
                tracing::warn!(login.id = %previous.id, %error, "failed to find the login replaced by a sign-in");
                return;
            }
        };
        let owner = Owner {
            user_type: login.user_type,
            user_id: login.user_id,
        };
        let revoked = self
            .revoke(
                &previous.table,
                &owner,
                super::RevokeScope::One(previous.id),
                crate::RevokeReason::Replaced,
                Some(replaced_by),
            )
            .await;
        if let Err(error) = revoked {
            tracing::warn!(login.id = %previous.id, %error, "failed to end the login replaced by a sign-in");
        }
    }

    /// Records a session login bound to `session_id`, for frameworks other than axum.
    ///
    /// The caller must already have cycled the session id, must store the returned
    /// login's id in the session, and must call [`Tracker::check_login`] on each request.
    /// With axum, `AuthTracking::record_session_login`
    /// does all of it.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidTableName`] or a database error. Enrichment never fails the call.
    #[tracing::instrument(level = "debug", skip_all, fields(user.id = %owner.user_id, login.id), err)]
    pub async fn record_login(
        &self,
        table: &str,
        owner: Owner,
        session_id: Option<String>,
        enrichment: Enrichment,
        request: &RequestContext,
    ) -> Result<Login> {
        let table = validate_table_name(table)?.to_owned();
        let id = LoginId::new();
        tracing::Span::current().record("login.id", tracing::field::display(id));
        let now = now_utc();
        let spec = RowSpec {
            id,
            owner,
            kind: LoginKind::Session,
            name: None,
            secrets: RowSecrets {
                session_id,
                ..RowSecrets::default()
            },
            expires_at: expiry(now, self.config.session_lifetime),
        };
        self.insert_login(&table, spec, enrichment, request, now)
            .await
    }

    /// Creates a personal API token: a `token` login whose secret is returned once and
    /// stored only as its SHA-256 hash.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidTableName`] or a database error.
    #[tracing::instrument(level = "debug", skip_all, fields(user.id = %owner.user_id, login.id), err)]
    pub async fn create_token(
        &self,
        table: &str,
        owner: Owner,
        name: &str,
        enrichment: Enrichment,
        request: &RequestContext,
    ) -> Result<NewToken> {
        let table = validate_table_name(table)?.to_owned();
        let id = LoginId::new();
        tracing::Span::current().record("login.id", tracing::field::display(id));
        let (token, token_hash) = PlainToken::generate(id);
        let now = now_utc();
        let spec = RowSpec {
            id,
            owner,
            kind: LoginKind::Token,
            name: Some(name.to_owned()),
            secrets: RowSecrets {
                token_hash: Some(token_hash),
                ..RowSecrets::default()
            },
            expires_at: expiry(now, self.config.token_lifetime),
        };
        let login = self
            .insert_login(&table, spec, enrichment, request, now)
            .await?;
        Listeners::emit(
            &self.listeners.token_created,
            &TokenCreated {
                login: login.clone(),
            },
        );
        Ok(NewToken { login, token })
    }

    /// Records a token that the application issued itself, such as a JWT id or an OAuth
    /// access token, as a `token` login. Only the SHA-256 of `token_id` is stored: check
    /// a presented token with [`Tracker::check_token_id`], and revoke it at its issuer
    /// with a [`TokenRevoker`](crate::TokenRevoker).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidTableName`] or a database error, including a unique-index
    /// violation when the same token id is recorded twice.
    #[tracing::instrument(level = "debug", skip_all, fields(user.id = %owner.user_id, login.id), err)]
    #[allow(clippy::too_many_arguments)]
    pub async fn record_token_login(
        &self,
        table: &str,
        owner: Owner,
        name: &str,
        token_id: &str,
        expires_at: Option<DateTime<Utc>>,
        enrichment: Enrichment,
        request: &RequestContext,
    ) -> Result<Login> {
        let table = validate_table_name(table)?.to_owned();
        let id = LoginId::new();
        tracing::Span::current().record("login.id", tracing::field::display(id));
        let spec = RowSpec {
            id,
            owner,
            kind: LoginKind::Token,
            name: Some(name.to_owned()),
            secrets: RowSecrets {
                token_hash: Some(hash_secret(token_id)),
                ..RowSecrets::default()
            },
            expires_at: expires_at.map(|at| at.trunc_subsecs(6).naive_utc()),
        };
        self.insert_login(&table, spec, enrichment, request, now_utc())
            .await
    }

    /// Inserts a row, then starts geolocation and the new-login event.
    async fn insert_login(
        &self,
        table: &str,
        spec: RowSpec,
        enrichment: Enrichment,
        request: &RequestContext,
        now: DateTime<Utc>,
    ) -> Result<Login> {
        let row = self.new_row(spec, enrichment, request, now);
        let login = inserted_login(&row)?;
        let insert_table = table.to_owned();
        self.blocking(move |store| store.insert(&insert_table, &row))
            .await?;
        tracing::info!(login.id = %login.id, "recorded a login");

        self.announce_new_login(table, &login, enrichment, request.ip);
        Ok(login)
    }

    fn new_row(
        &self,
        spec: RowSpec,
        enrichment: Enrichment,
        request: &RequestContext,
        now: DateTime<Utc>,
    ) -> NewRow {
        let user_agent = request.user_agent.as_deref().map(|agent| {
            truncate_on_char_boundary(agent, self.config.max_user_agent_bytes).to_owned()
        });
        let parsed = user_agent
            .as_deref()
            .map(|agent| {
                enrichment
                    .parser
                    .parse_with_hints(agent, &request.client_hints)
            })
            .unwrap_or_default();

        NewRow {
            id: spec.id,
            owner: spec.owner,
            kind: spec.kind,
            name: spec.name,
            session_id: spec.secrets.session_id,
            token_hash: spec.secrets.token_hash,
            remember_selector: spec.secrets.remember_selector,
            remember_verifier_hash: spec.secrets.remember_verifier_hash,
            user_agent,
            ip_address: request.ip.map(|ip| ip.to_string()),
            device: parsed.device.clone(),
            device_type: parsed
                .device_type
                .map(|device_type| device_type.as_str().to_owned()),
            platform: parsed.platform.clone(),
            platform_version: parsed.platform_version.clone(),
            browser: parsed.browser.clone(),
            browser_version: parsed.browser_version.clone(),
            created_at: now.naive_utc(),
            expires_at: spec.expires_at,
        }
    }

    /// Runs geolocation and the new-login event off the request path. The event waits
    /// for the lookup, so it can tell whether the country is new.
    fn announce_new_login(
        &self,
        table: &str,
        login: &Login,
        enrichment: Enrichment,
        ip: Option<IpAddr>,
    ) {
        // Addresses that are not public are never sent to any provider.
        let provider = ip
            .filter(|ip| is_public_ip(*ip))
            .and_then(|ip| Some((self.resolve_provider(enrichment.ip_provider)?, ip)));
        let has_listeners = !self.listeners.new_login.is_empty();
        if provider.is_none() && !has_listeners {
            return;
        }
        let tracker = self.clone();
        let table = table.to_owned();
        let mut login = login.clone();
        tokio::spawn(async move {
            if let Some((provider, ip)) = provider {
                tracker.geolocate(&table, &mut login, ip, provider).await;
            }
            if has_listeners {
                tracker.emit_new_login(&table, login).await;
            }
        });
    }

    async fn geolocate(
        &self,
        table: &str,
        login: &mut Login,
        ip: IpAddr,
        provider: ResolvedProvider,
    ) {
        let id = login.id;
        let timeout = self.config.geolocation_timeout;
        let ttl = self.config.geolocation_cache_ttl;
        let looked_up = match self.geolocation_cache.get(&provider, ip, ttl) {
            Some(cached) => Ok(Ok(cached)),
            None => tokio::time::timeout(timeout, provider.get().locate(ip)).await,
        };
        if let Ok(Ok(location)) = &looked_up
            && !ttl.is_zero()
        {
            self.geolocation_cache
                .insert(&provider, ip, location.clone());
        }
        let error = match looked_up {
            Ok(Ok(Some(location))) => {
                let table = table.to_owned();
                let stored_location = location.clone();
                let stored = self
                    .blocking(move |store| store.set_location(&table, id, &stored_location))
                    .await;
                match stored {
                    Ok(()) => {
                        login.city = location.city;
                        login.region = location.region;
                        login.country = location.country;
                        login.country_code = location.country_code;
                        login.ip_data = location.data;
                        return;
                    }
                    Err(error) => format!("storing the location failed: {error}"),
                }
            }
            Ok(Ok(None)) => return,
            Ok(Err(error)) => error.to_string(),
            Err(_) => format!("timed out after {} ms", timeout.as_millis()),
        };
        tracing::warn!(login.id = %id, %error, "geolocation failed");
        Listeners::emit(
            &self.listeners.geolocation_failed,
            &GeolocationFailed {
                login_id: id,
                error,
            },
        );
    }

    async fn emit_new_login(&self, table: &str, login: Login) {
        let owner = Owner {
            user_type: login.user_type.clone(),
            user_id: login.user_id.clone(),
        };
        let id = login.id;
        let earlier_than = (id, login.created_at.naive_utc());
        let device = [
            login.browser.clone(),
            login.platform.clone(),
            login.device.clone(),
        ];
        let country_code = login.country_code.clone();
        let table = table.to_owned();
        let counted = self
            .blocking(move |store| {
                let device = [
                    device[0].as_deref(),
                    device[1].as_deref(),
                    device[2].as_deref(),
                ];
                let same_device = store.count_same_device(&table, &owner, earlier_than, device)?;
                let same_country = match &country_code {
                    Some(code) => {
                        Some(store.count_same_country(&table, &owner, earlier_than, code)?)
                    }
                    None => None,
                };
                Ok((same_device, same_country))
            })
            .await;
        match counted {
            Ok((same_device, same_country)) => {
                let event = NewLogin {
                    login,
                    new_device: same_device == 0,
                    new_country: same_country.map(|count| count == 0),
                };
                Listeners::emit(&self.listeners.new_login, &event);
            }
            Err(error) => {
                tracing::warn!(login.id = %id, %error, "failed to prepare the new-login event")
            }
        }
    }
}

/// Returns `now + lifetime` as stored, or `None` for no lifetime.
fn expiry(now: DateTime<Utc>, lifetime: Option<std::time::Duration>) -> Option<NaiveDateTime> {
    lifetime
        .and_then(|lifetime| chrono::Duration::from_std(lifetime).ok())
        .map(|lifetime| (now + lifetime).trunc_subsecs(6).naive_utc())
}

/// Returns the login a row reads back as right after its insert, built without a
/// query: the insert sets `last_activity_at` to `created_at` and leaves the location
/// and revocation columns empty. Every timestamp is already cut to the microseconds
/// that all three backends store.
fn inserted_login(row: &NewRow) -> Result<Login> {
    LoginRow {
        id: row.id.to_string(),
        user_type: row.owner.user_type.clone(),
        user_id: row.owner.user_id.clone(),
        kind: row.kind.as_str().to_owned(),
        name: row.name.clone(),
        session_id: None,
        token_hash: None,
        remember_selector: row.remember_selector.clone(),
        remember_verifier_hash: None,
        user_agent: row.user_agent.clone(),
        ip_address: row.ip_address.clone(),
        device: row.device.clone(),
        device_type: row.device_type.clone(),
        platform: row.platform.clone(),
        platform_version: row.platform_version.clone(),
        browser: row.browser.clone(),
        browser_version: row.browser_version.clone(),
        city: None,
        region: None,
        country: None,
        country_code: None,
        ip_data: None,
        created_at: row.created_at,
        last_activity_at: row.created_at,
        expires_at: row.expires_at,
        revoked_at: None,
        revoke_reason: None,
    }
    .into_login(Some(row.id))
}
