//! Authentication and authorization: the middleware that turns `Authorization: Bearer KEY` into a
//! [`Caller`] (or a 401) and writes the audit line of every write, and the checks handlers make
//! (scope, account, environment).

use std::sync::Arc;

use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bdi_domain::{Env, EnvironmentId};

use crate::audit::{AuditRecord, AuditTarget};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::keys::ApiKey;
use crate::scopes::Scope;
use crate::state::AppState;

/// The authenticated key of a request.
#[derive(Clone, Debug)]
pub struct Caller(pub Arc<ApiKey>);

impl Caller {
    /// The key's name.
    pub fn name(&self) -> &str {
        self.0.name()
    }

    /// 403 naming the scope unless the key holds it.
    pub fn require(&self, scope: Scope) -> ApiResult<()> {
        if self.0.has_scope(scope) {
            Ok(())
        } else {
            Err(ApiError::missing_scope(self.name(), scope))
        }
    }

    /// Parses the environment of a path and checks the key may touch it.
    pub fn environment(&self, raw: &str) -> ApiResult<Env> {
        let id = EnvironmentId::parse(raw)?;
        if self.0.allows_environment(&id) {
            Ok(Env::Id(id))
        } else {
            Err(ApiError::environment_not_allowed(self.name(), id.as_str()))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(ApiError::missing_key)
    }
}

/// The bearer credential of a request, if any (`Bearer` is matched case-insensitively).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    let key = rest.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty()).then_some(key)
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// What the guard of one route needs: the state and the route's scope.
#[derive(Clone, Debug)]
pub struct GuardCtx {
    /// The gateway's state.
    pub state: AppState,
    /// The scope the route needs.
    pub scope: Scope,
}

/// The key a request presents: 401 when there is none or it matches no entry.
fn authenticate(ctx: &GuardCtx, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let presented = bearer(headers).ok_or_else(ApiError::missing_key)?;
    ctx.state
        .keys()
        .authenticate(presented)
        .map(Caller)
        .ok_or_else(ApiError::bad_key)
}

/// Checks an authenticated request against its route, in this order: the account of the path
/// (404, like the upstream), the route's scope (403 naming it), the environment of the path (403
/// when the key is limited to others).
fn authorize(ctx: &GuardCtx, caller: &Caller, params: &[(String, String)]) -> Result<(), ApiError> {
    let param = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    if let Some(account) = param("account") {
        ctx.state.check_account(account)?;
    }
    caller.require(ctx.scope)?;
    if let Some(env) = param("env") {
        caller.environment(env)?;
    }
    Ok(())
}

/// Middleware on every protected route: authenticates and authorizes the request, hands the
/// [`Caller`] to the handler, and audits writes whatever their outcome (refused ones included).
pub async fn guard(State(ctx): State<GuardCtx>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let method = parts.method.clone();
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map_or_else(String::new, |p| p.as_str().to_owned());
    let params: Vec<(String, String)> = RawPathParams::from_request_parts(&mut parts, &ctx)
        .await
        .map(|p| {
            p.iter()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect()
        })
        .unwrap_or_default();

    let (caller, response) = match authenticate(&ctx, &parts.headers) {
        Err(e) => (None, e.into_response()),
        Ok(caller) => match authorize(&ctx, &caller, &params) {
            Err(e) => (Some(caller), e.into_response()),
            Ok(()) => {
                parts.extensions.insert(caller.clone());
                let response = next.run(Request::from_parts(parts, body)).await;
                (Some(caller), response)
            }
        },
    };

    if is_write(&method) {
        let target = response
            .extensions()
            .get::<AuditTarget>()
            .map(|t| t.0.clone())
            .or_else(|| {
                params
                    .iter()
                    .rfind(|(n, _)| n != "account")
                    .map(|(_, v)| v.clone())
            });
        let outcome = response
            .extensions()
            .get::<ErrorCode>()
            .map_or_else(|| "ok".to_owned(), |c| c.0.clone());
        ctx.state.audit().record(AuditRecord {
            key: caller.map_or_else(|| "-".to_owned(), |c| c.name().to_owned()),
            method: method.as_str().to_owned(),
            route,
            target,
            status: response.status().as_u16(),
            outcome,
        });
    }
    response
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn bearer_reads_the_key() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        for (value, want) in [
            ("Bearer abc", Some("abc")),
            ("bearer  abc ", Some("abc")),
            ("Basic abc", None),
            ("Bearer ", None),
            ("abc", None),
        ] {
            h.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
            assert_eq!(bearer(&h), want, "{value}");
        }
    }
}
