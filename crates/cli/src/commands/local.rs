//! Commands that need no account: `bdi completions`, `bdi configure` and `bdi sandbox`, plus the
//! in-process sandbox behind `--sandbox`.

use std::sync::Arc;

use bdi_api_client::EmbeddedSandbox;
use bdi_domain::Backend;
use bdi_sandbox::{Sandbox, SandboxConfig};
use clap::CommandFactory;
use serde_json::{Value, json};

use super::Ctx;
use crate::cli::{Cli, ConfigureArgs, SandboxArgs};
use crate::errors::CliError;
use crate::exit::ExitStatus;
use crate::output::{Table, View};
use bdi_api_client::profile::{self, ConfigFile, mask};

pub(crate) fn completions(
    ctx: &mut Ctx<'_>,
    shell: clap_complete::Shell,
) -> Result<ExitStatus, CliError> {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "bdi", ctx.out);
    Ok(ExitStatus::Success)
}

fn config_file_path(ctx: &Ctx<'_>) -> Result<std::path::PathBuf, CliError> {
    profile::config_path(ctx.vars).ok_or_else(|| {
        CliError::config(
            "no place for the config file: neither BDI_CONFIG nor HOME is set",
            "set BDI_CONFIG to the file to use",
        )
    })
}

pub(crate) fn configure(ctx: &mut Ctx<'_>, a: &ConfigureArgs) -> Result<ExitStatus, CliError> {
    let path = config_file_path(ctx)?;
    let mut file = ConfigFile::load(&path).map_err(|e| {
        CliError::config(
            e.to_string(),
            "fix or remove the file, then run `bdi configure` again",
        )
    })?;
    if a.list {
        let mut table = Table::new(["PROFILE", "API URL", "ACCOUNT", "ENVIRONMENT", "TOKEN"]);
        let mut data = Vec::new();
        for (name, p) in &file.profiles {
            let token = p.token.as_deref().map(mask);
            table.row([
                name.clone(),
                p.api_url.clone().unwrap_or_default(),
                p.account_id.clone().unwrap_or_default(),
                p.environment_id.clone().unwrap_or_default(),
                token.clone().unwrap_or_default(),
            ]);
            data.push(json!({
                "profile": name, "api_url": p.api_url, "account_id": p.account_id,
                "environment_id": p.environment_id, "token": token,
            }));
        }
        ctx.emit(
            &Value::Array(data),
            View::Table {
                table,
                empty: "no profiles yet: create one with `bdi configure`",
            },
        )?;
        ctx.note(&format!("config file: {}", path.display()))?;
        return Ok(ExitStatus::Success);
    }
    let name = ctx
        .global
        .profile
        .clone()
        .unwrap_or_else(|| profile::DEFAULT_PROFILE.to_owned());
    let mut profile = file.profiles.get(&name).cloned().unwrap_or_default();
    if a.flow {
        return configure_flow(ctx, a, &path, &mut file, &name, profile);
    }
    let o = ctx.global.overrides.clone();
    if let Some(url) = o.api_url {
        profile.api_url = Some(url);
    }
    if let Some(id) = o.account_id {
        bdi_domain::AccountId::parse(&id).map_err(CliError::from)?;
        profile.account_id = Some(id);
    }
    if let Some(id) = o.environment_id {
        profile.environment_id = Some(id);
    }
    let line = if ctx.stdin_terminal {
        // Typed at a terminal: read without echo, so the token never shows on screen.
        rpassword::prompt_password("API token (empty keeps the current one): ")
            .map_err(|e| CliError::local(format!("could not read the token: {e}")))?
    } else {
        let mut line = String::new();
        ctx.stdin
            .read_line(&mut line)
            .map_err(|e| CliError::local(format!("could not read the token from stdin: {e}")))?;
        line
    };
    let token = line.trim();
    if !token.is_empty() {
        profile.token = Some(token.to_owned());
    }
    if profile.token.is_none() {
        return Err(CliError::usage(
            "no API token given",
            Some("pipe the token on stdin, e.g. `printenv BDI_TOKEN | bdi configure --account-id ID`; mint one in the console under Settings > API Tokens".to_owned()),
        ));
    }
    let shown = profile.token.as_deref().map(mask).unwrap_or_default();
    file.profiles.insert(name.clone(), profile);
    file.save(&path)
        .map_err(|e| CliError::local(e.to_string()))?;
    ctx.note(&format!(
        "saved profile `{name}` to {} (token {shown})",
        path.display()
    ))?;
    Ok(ExitStatus::Success)
}

/// Reads one secret: without echo at a terminal, else a line of stdin.
fn read_secret(ctx: &mut Ctx<'_>, prompt: &str) -> Result<String, CliError> {
    let line = if ctx.stdin_terminal {
        rpassword::prompt_password(prompt)
            .map_err(|e| CliError::local(format!("could not read the key: {e}")))?
    } else {
        let mut line = String::new();
        ctx.stdin
            .read_line(&mut line)
            .map_err(|e| CliError::local(format!("could not read the key from stdin: {e}")))?;
        line
    };
    Ok(line.trim().to_owned())
}

/// `bdi configure --flow`: the Boomi Flow key (stdin), tenant and URL, in the same profile.
fn configure_flow(
    ctx: &mut Ctx<'_>,
    a: &ConfigureArgs,
    path: &std::path::Path,
    file: &mut ConfigFile,
    name: &str,
    mut profile: profile::Profile,
) -> Result<ExitStatus, CliError> {
    if let Some(url) = &a.flow_api_url {
        profile.flow_api_url = Some(url.trim().trim_end_matches('/').to_owned());
    }
    if let Some(tenant) = &a.tenant_id {
        profile.flow_tenant_id = Some(tenant.trim().to_owned());
    }
    let key = read_secret(ctx, "Boomi Flow API key (empty keeps the current one): ")?;
    if !key.is_empty() {
        profile.flow_api_key = Some(key);
    }
    if profile.flow_api_key.is_none() {
        return Err(CliError::usage(
            "no Boomi Flow API key given",
            Some("pipe the key on stdin, e.g. `printenv FLOW_KEY | bdi configure --flow --tenant-id UUID`; create one in Boomi Flow under User Settings > API keys".to_owned()),
        ));
    }
    let shown = profile
        .flow_api_key
        .as_deref()
        .map(mask)
        .unwrap_or_default();
    file.profiles.insert(name.to_owned(), profile);
    file.save(path)
        .map_err(|e| CliError::local(e.to_string()))?;
    ctx.note(&format!(
        "saved the Boomi Flow key of profile `{name}` to {} (key {shown})",
        path.display()
    ))?;
    Ok(ExitStatus::Success)
}

/// Starts an in-process sandbox and an HTTP backend pointed at it.
pub(crate) async fn sandbox_backend() -> Result<(Arc<dyn Backend>, EmbeddedSandbox), CliError> {
    let embedded = EmbeddedSandbox::start().await?;
    let backend = bdi_api_client::HttpBackend::new(embedded.client_config()?)?;
    Ok((Arc::new(backend), embedded))
}

pub(crate) async fn sandbox(ctx: &mut Ctx<'_>, a: &SandboxArgs) -> Result<ExitStatus, CliError> {
    let config = SandboxConfig::default();
    let started = match a.port {
        Some(port) => {
            Sandbox::start_on(std::net::SocketAddr::from(([127, 0, 0, 1], port)), config).await
        }
        None => Sandbox::start(config).await,
    };
    let sb = started.map_err(|e| CliError::local(format!("could not start the sandbox: {e}")))?;
    let cfg = sb.config().clone();
    let data = json!({
        profile::API_URL: sb.base_url(),
        profile::API_TOKEN: cfg.token,
        profile::ACCOUNT_ID: cfg.account_id,
        profile::ENVIRONMENT_ID: cfg.environment_id,
        bdi_api_client::ENV_BOOMI_FLOW_API_URL: sb.boomi_flow_base_url(),
        bdi_api_client::ENV_BOOMI_FLOW_API_KEY: cfg.boomi_flow.api_key,
        bdi_api_client::ENV_BOOMI_FLOW_TENANT_ID: cfg.boomi_flow.tenant_id,
    });
    let text: String = data
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("export {k}={}\n", v.as_str().unwrap_or_default()))
        .collect();
    ctx.emit(&data, View::Text(text))?;
    ctx.note(&format!(
        "sandbox with demo data at {}; in another shell, `eval` the lines above (or use --sandbox on any command); Ctrl-C stops it",
        sb.base_url()
    ))?;
    let _ = ctx.out.flush();
    let guard = ctx.ctrl_c_guard();
    ctx.cancel.cancelled().await;
    drop(guard);
    sb.shutdown().await;
    ctx.note("sandbox stopped")?;
    Ok(ExitStatus::Success)
}
