//! `bdi flows pull` and `bdi flows plan`: an environment's data flows as documents in a
//! directory, and the plan that would make the environment match them (`bdi_domain::plan`).
//!
//! The directory (`docs/flows-as-code.md`):
//! - `flows/<name>.yaml`: one clean document per data flow, named after the flow when it was
//!   first pulled (`orders to snowflake` → `orders-to-snowflake.yaml`);
//! - `connections/<name>.yaml`: the connections the data flows use, without secrets (each
//!   secret named with the environment variable an apply reads it from);
//! - `variables.yaml`: the environment's variables (a secret one as its environment variable);
//! - `bdi-identity.yaml`: which data flow and connection each file is, per environment
//!   (file → id), and the groups by name, so that a rename in a file renames the flow, a second
//!   pull keeps every file where it is, and a promotion maps ids by name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bdi_domain::plan::connections::{self as conn_docs, ConnectionDocument};
use bdi_domain::plan::promotion::{Overrides, SourceNames};
use bdi_domain::plan::variables::{self as var_docs, VARIABLES_FILE};
use bdi_domain::plan::{self, Action, Current, Desired, Identity, Plan, Resource};
use bdi_domain::{Documents, Env, Identities, Service};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Ctx;
use crate::cli::{FlowPlanArgs, FlowPullArgs};
use crate::errors::CliError;
use crate::exit::ExitStatus;
use crate::output::{Format, View, yaml_text};

/// The identity record's file, at the directory's root.
pub(crate) const IDENTITY_FILE: &str = "bdi-identity.yaml";
/// The folder of the data flows' documents.
const FLOWS_DIR: &str = "flows";
/// The folder of the connections' documents.
const CONNECTIONS_DIR: &str = "connections";

/// `bdi-identity.yaml`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentityFile {
    /// The environment the documents were last pulled from: their connection ids are its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pulled_from: Option<String>,
    /// Per environment id.
    #[serde(default)]
    environments: BTreeMap<String, EnvRecord>,
}

/// What the record holds of one environment.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvRecord {
    /// The environment's name, for a person reading the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    /// File → data flow id.
    #[serde(default)]
    flows: BTreeMap<String, String>,
    /// Connection file → connection id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    connections: BTreeMap<String, String>,
    /// The groups of the pulled data flows: name → id (what a promotion maps by name).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    groups: BTreeMap<String, String>,
}

impl EnvRecord {
    fn identities(&self) -> Identities {
        Identities {
            flows: Identity(self.flows.clone()),
            connections: Identity(self.connections.clone()),
        }
    }
}

const IDENTITY_HEADER: &str = "# Which data flow and connection each file is, per environment (environment id → file → id),\n# and the groups of the data flows by name. Written by `bdi flows pull`; keep it in git with the documents.\n";
const CONNECTION_HEADER: &str = "# A connection, without its secrets: each one under `secrets` names the environment variable\n# that `bdi flows apply` reads it from (the platform never returns a secret). Never write a secret here.\n";
const VARIABLES_HEADER: &str = "# The environment's variables. One whose name reads as a secret is written as the environment\n# variable that holds its value ({env: NAME}), never as the value.\n";

fn read_identity(dir: &Path) -> Result<IdentityFile, CliError> {
    let path = dir.join(IDENTITY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_norway::from_str(&text).map_err(|e| {
            CliError::usage(
                format!("{} is not a valid identity record: {e}", path.display()),
                Some(format!(
                    "fix it, or remove it and run `bdi flows pull --dir {}` again",
                    dir.display()
                )),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(IdentityFile::default()),
        Err(e) => Err(CliError::local(format!(
            "could not read {}: {e}",
            path.display()
        ))),
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), CliError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| CliError::local(format!("could not create {}: {e}", parent.display())))?;
    }
    // Written beside and renamed: a file is never left half written.
    let temp = path.with_extension("tmp~");
    std::fs::write(&temp, text)
        .and_then(|()| std::fs::rename(&temp, path))
        .map_err(|e| CliError::local(format!("could not write {}: {e}", path.display())))
}

/// The environment the command works on: its id and name.
async fn environment(ctx: &Ctx<'_>, svc: &Service) -> Result<(String, String), CliError> {
    let all = svc.list_all_environments(false).await?;
    // The environment the requests go to: the one named, else the one configured
    // (DATA_INTEGRATION_ENVIRONMENT_ID, a profile), else the account's default.
    let named = match &ctx.env {
        Env::Id(id) => Some(id.clone()),
        Env::Default => svc.backend().default_environment(),
    };
    let found = match &named {
        Some(id) => all.iter().find(|e| e.cross_id == id.as_str()),
        None => all.iter().find(|e| e.is_default),
    };
    match (found, named) {
        (Some(e), _) => Ok((e.cross_id.clone(), e.environment_name.clone())),
        (None, Some(id)) => Ok((id.to_string(), String::new())),
        (None, None) => Err(CliError::usage(
            "the account has no default environment",
            Some("name one with --environment-id".to_owned()),
        )),
    }
}

/// A file name for a data flow named `name`: lower case, words joined by `-`.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for ch in name.chars().flat_map(char::to_lowercase) {
        if ch.is_alphanumeric() {
            out.push(ch);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    let cut: String = out.chars().take(80).collect();
    if cut.is_empty() {
        "data-flow".to_owned()
    } else {
        cut
    }
}

/// The file an object keeps (`existing`), or a new one of its name in `folder`, not `taken` and
/// not on disk.
fn place(
    existing: Option<&String>,
    folder: &str,
    name: &str,
    taken: &mut std::collections::BTreeSet<String>,
    dir: &Path,
) -> String {
    if let Some(file) = existing {
        return file.clone();
    }
    let base = slug(name);
    let mut n = 1;
    let file = loop {
        let candidate = if n == 1 {
            format!("{folder}/{base}.yaml")
        } else {
            format!("{folder}/{base}-{n}.yaml")
        };
        if !taken.contains(&candidate) && !dir.join(&candidate).exists() {
            break candidate;
        }
        n += 1;
    };
    taken.insert(file.clone());
    file
}

/// `bdi flows pull --dir DIR`: the data flows, the connections they use and the variables.
pub(crate) async fn pull(
    ctx: &mut Ctx<'_>,
    svc: &Service,
    a: FlowPullArgs,
) -> Result<ExitStatus, CliError> {
    let (env_id, env_name) = environment(ctx, svc).await?;
    let mut identity = read_identity(&a.dir)?;
    let found = svc.data_flow_documents(&ctx.env).await?;
    let (flows, legacy) = (&found.flows, &found.legacy);
    let record = identity.environments.entry(env_id.clone()).or_default();
    record.name = Some(env_name.clone()).filter(|n| !n.is_empty());
    // A flow keeps the file it has; a new one gets a file of its own name.
    let file_of: BTreeMap<String, String> = record
        .flows
        .iter()
        .map(|(file, id)| (id.clone(), file.clone()))
        .collect();
    let mut taken: std::collections::BTreeSet<String> = record.flows.keys().cloned().collect();
    let mut written = Vec::new();
    for flow in flows {
        let name = flow.body.get("name").and_then(Value::as_str).unwrap_or("");
        let file = place(file_of.get(&flow.id), FLOWS_DIR, name, &mut taken, &a.dir);
        write_file(
            &a.dir.join(&file),
            &yaml_text(&Value::Object(flow.body.clone())),
        )?;
        record.flows.insert(file.clone(), flow.id.clone());
        written.push(json!({"file": file, "id": flow.id, "name": flow.body.get("name")}));
    }
    // The connections the documents use, each a document without its secrets.
    let used: std::collections::BTreeSet<String> = flows
        .iter()
        .flat_map(|f| plan::connections_of(&f.body))
        .collect();
    let listed = svc.list_all_connections(&ctx.env, 500).await?;
    let ids: Vec<String> = listed
        .items
        .iter()
        .filter(|c| used.contains(&c.cross_id))
        .map(|c| c.cross_id.clone())
        .collect();
    let connections = svc.connection_documents(&ctx.env, ids).await?;
    // A record written before connections were documents names them by name (not a file under
    // connections/): those entries are replaced.
    record
        .connections
        .retain(|file, _| file.starts_with(&format!("{CONNECTIONS_DIR}/")));
    let conn_file_of: BTreeMap<String, String> = record
        .connections
        .iter()
        .map(|(file, id)| (id.clone(), file.clone()))
        .collect();
    let mut conn_taken: std::collections::BTreeSet<String> =
        record.connections.keys().cloned().collect();
    record
        .connections
        .retain(|_, id| connections.iter().any(|(c, _)| &c.id == id));
    let mut secrets = Vec::new();
    for (c, stored) in &connections {
        let name = c.body.get("name").and_then(Value::as_str).unwrap_or("");
        let file = place(
            conn_file_of.get(&c.id),
            CONNECTIONS_DIR,
            name,
            &mut conn_taken,
            &a.dir,
        );
        let value = conn_docs::file_value(&c.body, stored);
        if let Some(Value::Object(named)) = value.get("secrets") {
            for (field, source) in named {
                secrets.push(json!({"file": file, "field": field, "env": source["env"]}));
            }
        }
        write_file(
            &a.dir.join(&file),
            &format!("{CONNECTION_HEADER}{}", yaml_text(&value)),
        )?;
        record.connections.insert(file, c.id.clone());
    }
    record.groups = found
        .groups
        .iter()
        .map(|(id, name)| (name.clone(), id.clone()))
        .collect();
    // A token that may not read variables still pulls the data flows and connections.
    let variables = match svc.backend().list_variables(&ctx.env).await {
        Ok(v) => {
            write_file(
                &a.dir.join(VARIABLES_FILE),
                &format!("{VARIABLES_HEADER}{}", yaml_text(&var_docs::file_value(&v))),
            )?;
            v
        }
        Err(bdi_domain::Error::Forbidden { .. }) => {
            ctx.warn(&format!(
                "the token may not read the environment's variables (scope variables:list): {VARIABLES_FILE} was not written"
            ))?;
            Default::default()
        }
        Err(e) => return Err(e.into()),
    };
    let gone: Vec<String> = record
        .flows
        .iter()
        .filter(|(_, id)| !flows.iter().any(|f| &f.id == *id))
        .map(|(file, _)| file.clone())
        .collect();
    identity.pulled_from = Some(env_id.clone());
    write_identity(&a.dir, &identity)?;
    let data = json!({
        "environment": {"id": env_id, "name": env_name},
        "directory": a.dir,
        "flows": written,
        "connections": connections.len(),
        "variables": variables.len(),
        "secrets": secrets,
        "legacy": legacy,
        "no_longer_upstream": gone,
    });
    ctx.emit(&data, View::Text(String::new()))?;
    ctx.note(&format!(
        "pulled {} data flows, {} connections and {} variables of environment {} into {}",
        flows.len(),
        connections.len(),
        variables.len(),
        if env_name.is_empty() {
            &env_id
        } else {
            &env_name
        },
        a.dir.display()
    ))?;
    if !secrets.is_empty() {
        ctx.note(&format!(
            "{} secrets are named in connections/ with the environment variables an apply reads them from; none was written",
            secrets.len()
        ))?;
    }
    for name in legacy {
        ctx.note(&format!(
            "skipped {}: made in the legacy console, the API cannot read it",
            bdi_domain::error::quote(name)
        ))?;
    }
    for file in &gone {
        ctx.note(&format!(
            "{file} names a data flow this environment no longer has: kept (a plan creates it again; delete the file to let it go)"
        ))?;
    }
    Ok(ExitStatus::Success)
}

/// The document files of `dir/folder` (`.yaml`, `.yml`, `.json`), in file order, each with its
/// name relative to `dir`.
fn files_in(dir: &Path, folder: &str) -> Result<Vec<(String, PathBuf)>, CliError> {
    let path = dir.join(folder);
    let entries = match std::fs::read_dir(&path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(CliError::local(format!(
                "could not read {}: {e}",
                path.display()
            )));
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        })
        .collect();
    paths.sort();
    Ok(paths
        .into_iter()
        .map(|p| {
            let file = p
                .strip_prefix(dir)
                .unwrap_or(&p)
                .to_string_lossy()
                .replace('\\', "/");
            (file, p)
        })
        .collect())
}

/// The directory's documents: `flows/`, `connections/` and `variables.yaml` (environment
/// variables read with `vars`), and every problem of their files (the environment's checks
/// add theirs, so that all are listed at once). A file that cannot be read at all is an error.
fn read_documents(
    dir: &Path,
    vars: &dyn Fn(&str) -> Option<String>,
) -> Result<(Documents, Vec<plan::Problem>), CliError> {
    let mut out = Documents::default();
    let mut unreadable = Vec::new();
    let mut problems = Vec::new();
    for (file, path) in files_in(dir, FLOWS_DIR)? {
        match crate::flowdoc::read_document(&path, &mut std::io::empty()) {
            Ok(doc) => out.flows.push(Desired {
                file,
                body: plan::clean(&doc),
            }),
            Err(e) => unreadable.push(e),
        }
    }
    for (file, path) in files_in(dir, CONNECTIONS_DIR)? {
        match crate::flowdoc::read_document(&path, &mut std::io::empty()) {
            Ok(raw) => match conn_docs::read(&file, &raw) {
                Ok(doc) => out.connections.push(doc),
                Err(more) => problems.extend(more),
            },
            Err(e) => unreadable.push(e),
        }
    }
    let path = dir.join(VARIABLES_FILE);
    if path.exists() {
        match crate::flowdoc::read_document(&path, &mut std::io::empty()) {
            Ok(raw) => match var_docs::read(VARIABLES_FILE, &raw, vars) {
                Ok(doc) => out.variables = Some(doc),
                Err(more) => problems.extend(more),
            },
            Err(e) => unreadable.push(e),
        }
    }
    if !unreadable.is_empty() {
        return Err(CliError::usage(
            unreadable.join("\n"),
            Some("fix the documents; nothing was sent".to_owned()),
        ));
    }
    Ok((out, problems))
}

/// The plan as a person reads it.
fn render(plan: &Plan, prune: bool) -> String {
    let mut out = String::new();
    let show = |v: &Option<Value>| {
        v.as_ref()
            .map_or_else(|| "(none)".to_owned(), Value::to_string)
    };
    for c in &plan.changes {
        // Data flows go by their name alone; the others say what they are.
        let what = match c.resource {
            Resource::DataFlow => String::new(),
            other => format!("{} ", other.label()),
        };
        let who = match &c.id {
            Some(id) => format!("{what}{} ({id})", c.name),
            None => format!("{what}{}", c.name),
        };
        let file = c
            .file
            .as_deref()
            .map(|f| format!(" [{f}]"))
            .unwrap_or_default();
        let head = match c.action {
            Action::Create => format!("+ create {who}{file}"),
            Action::Update => format!("~ update {who}{file}"),
            Action::Rename => format!("~ rename {who}{file}"),
            Action::Delete if c.applies(prune) => format!("- delete {who}"),
            Action::Delete if c.resource == Resource::DataFlow => {
                format!("? {who}: upstream only (apply --prune deletes it)")
            }
            Action::Delete => format!("? {who}: upstream only (an apply never deletes it)"),
        };
        out.push_str(&head);
        out.push('\n');
        for f in &c.fields {
            out.push_str(&format!(
                "    {}: {} -> {}\n",
                f.path,
                show(&f.before),
                show(&f.after)
            ));
        }
    }
    out
}

/// What a plan or an apply starts from: the documents, the record, the environment, what it
/// holds, and the plan between them.
struct Planned {
    documents: Documents,
    identity: IdentityFile,
    env_id: String,
    env_name: String,
    current: Vec<Current>,
    settings: bdi_domain::UpstreamSettings,
    plan: Plan,
}

/// Reads the directory and the environment (`ctx.env`) and plans; a promotion plans the data
/// flows alone, translated for the target.
async fn prepare(
    ctx: &mut Ctx<'_>,
    svc: &Service,
    dir: &Path,
    promotion: Option<&Overrides>,
) -> Result<Planned, CliError> {
    let (mut documents, mut problems) = read_documents(dir, ctx.vars)?;
    let identity = read_identity(dir)?;
    let (env_id, env_name) = environment(ctx, svc).await?;
    // The documents hold the ids (and connection documents the parameters) of the environment
    // they were pulled from: another one is a promotion, never a plain plan or apply.
    if promotion.is_none()
        && let Some(source) = identity.pulled_from.as_ref().filter(|s| **s != env_id)
    {
        let source_name = identity
            .environments
            .get(source)
            .and_then(|r| r.name.clone())
            .unwrap_or_else(|| source.clone());
        let target = if env_name.is_empty() {
            &env_id
        } else {
            &env_name
        };
        return Err(CliError::usage(
            format!(
                "{} holds the documents of environment {source_name} ({source}): their connection ids and connection and variable documents are that environment's, not {target}'s",
                dir.display()
            ),
            Some(format!(
                "to make {target} match them, run `bdi flows promote --dir {} --to {target}`; to plan {source_name}, name it with --environment-id {source}; nothing was sent",
                dir.display()
            )),
        ));
    }
    let record = identity
        .environments
        .get(&env_id)
        .map(EnvRecord::identities)
        .unwrap_or_default();
    let checked = match promotion {
        None => svc.check_environment(&ctx.env, &documents, &record).await?,
        Some(overrides) => {
            let source = source_names(&identity, &documents.connections);
            let (checked, notices, translated) = svc
                .check_promotion(
                    &ctx.env,
                    &documents.flows,
                    &record.flows,
                    &source,
                    overrides,
                )
                .await?;
            for n in notices {
                ctx.note(&format!("{}: {}", n.file, n.message))?;
            }
            // What is promoted is the data flows, as translated: connections and variables are
            // the target's own.
            documents = Documents {
                flows: translated,
                ..Documents::default()
            };
            checked
        }
    };
    let (plan, current, settings) = match checked {
        bdi_domain::Checked::Planned { .. } if !problems.is_empty() => {
            return Err(refused(&problems));
        }
        bdi_domain::Checked::Planned {
            plan,
            upstream,
            settings,
        } => (plan, upstream.flows, settings),
        bdi_domain::Checked::Refused(more) => {
            problems.extend(more);
            return Err(refused(&problems));
        }
    };
    Ok(Planned {
        documents,
        identity,
        env_id,
        env_name,
        current,
        settings,
        plan,
    })
}

/// What the documents' environment (the one they were pulled from) calls its connections and
/// groups: the record's connection files joined with those files' names, and its groups.
fn source_names(identity: &IdentityFile, connections: &[ConnectionDocument]) -> SourceNames {
    let Some(record) = identity
        .pulled_from
        .as_ref()
        .and_then(|id| identity.environments.get(id))
    else {
        return SourceNames::default();
    };
    SourceNames {
        connections: record
            .connections
            .iter()
            .filter_map(|(file, id)| {
                let doc = connections.iter().find(|d| &d.file == file)?;
                Some((id.clone(), doc.name().to_owned()))
            })
            .collect(),
        groups: record
            .groups
            .iter()
            .map(|(name, id)| (id.clone(), name.clone()))
            .collect(),
    }
}

/// `--map FILE`: `connections:` and `groups:`, each `source name: target name or id`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    #[serde(default)]
    connections: BTreeMap<String, String>,
    #[serde(default)]
    groups: BTreeMap<String, String>,
}

/// `bdi flows promote --dir DIR --to ENVIRONMENT [--map FILE] [--yes]`: makes the target
/// environment match the documents, their connections mapped by name to the target's own; the
/// flows it creates there are recorded under the target in the identity record, so the next
/// promotion updates them. A connection the target lacks refuses the whole promotion before any
/// write.
pub(crate) async fn promote(
    ctx: &mut Ctx<'_>,
    svc: &Service,
    a: crate::cli::FlowPromoteArgs,
) -> Result<ExitStatus, CliError> {
    let environments = svc.list_all_environments(false).await?;
    let wanted = a.to.trim();
    let found: Vec<_> = environments
        .iter()
        .filter(|e| e.cross_id == wanted || e.environment_name.eq_ignore_ascii_case(wanted))
        .collect();
    let target = match found.as_slice() {
        [one] => bdi_domain::EnvironmentId::parse(&one.cross_id)?,
        [] => {
            return Err(CliError::usage(
                format!(
                    "no environment is named or has the id {}",
                    bdi_domain::error::quote(wanted)
                ),
                Some("`bdi environments list` shows them".to_owned()),
            ));
        }
        many => {
            return Err(CliError::usage(
                format!(
                    "{} environments are named {}",
                    many.len(),
                    bdi_domain::error::quote(wanted)
                ),
                Some("name it by id".to_owned()),
            ));
        }
    };
    let mapping = match &a.map {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                CliError::usage(format!("could not read {}: {e}", path.display()), None)
            })?;
            serde_norway::from_str::<MappingFile>(&text).map_err(|e| {
                CliError::usage(
                    format!("{} is not a valid mapping file: {e}", path.display()),
                    Some(
                        "write `connections:` and `groups:`, each with lines `source name: target name or id`"
                            .to_owned(),
                    ),
                )
            })?
        }
        None => MappingFile::default(),
    };
    ctx.env = Env::Id(target);
    let promotion = Overrides {
        connections: mapping.connections,
        groups: mapping.groups,
    };
    let how = How {
        yes: a.yes,
        prune: false,
        dry_run: a.dry_run,
    };
    carry_out(ctx, svc, &a.dir, &how, Some(&promotion)).await
}

/// Documents refused before anything is sent: every problem, with its file and path.
fn refused(problems: &[plan::Problem]) -> CliError {
    CliError::usage(
        problems
            .iter()
            .map(|p| match &p.path {
                Some(path) => format!("{}: {path}: {}", p.file, p.message),
                None => format!("{}: {}", p.file, p.message),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Some("fix the documents or the identity record; nothing was sent".to_owned()),
    )
}

/// One line of counts.
fn counts(plan: &Plan, prune: bool) -> String {
    let count = |action: Action| plan.changes.iter().filter(|c| c.action == action).count();
    format!(
        "{} to create, {} to update, {} to rename, {} to delete, {} upstream only, {} unchanged",
        count(Action::Create),
        count(Action::Update),
        count(Action::Rename),
        plan.changes
            .iter()
            .filter(|c| c.action == Action::Delete && c.applies(prune))
            .count(),
        plan.changes.iter().filter(|c| !c.applies(prune)).count(),
        plan.unchanged
    )
}

/// `bdi flows plan --dir DIR`: exit 0 when nothing would change, 7 when something would.
pub(crate) async fn plan(
    ctx: &mut Ctx<'_>,
    svc: &Service,
    a: FlowPlanArgs,
) -> Result<ExitStatus, CliError> {
    let p = prepare(ctx, svc, &a.dir, None).await?;
    let pending = p.plan.has_changes(a.prune);
    let changes: Vec<&plan::Change> = p
        .plan
        .changes
        .iter()
        .filter(|c| c.applies(a.prune))
        .collect();
    let upstream_only: Vec<&plan::Change> = p
        .plan
        .changes
        .iter()
        .filter(|c| !c.applies(a.prune))
        .collect();
    let data = json!({
        "environment": {"id": p.env_id, "name": p.env_name},
        "changes": changes,
        "upstream_only": upstream_only,
        "unchanged": p.plan.unchanged,
    });
    ctx.emit(&data, View::Text(render(&p.plan, a.prune)))?;
    ctx.note(&counts(&p.plan, a.prune))?;
    Ok(if pending {
        ExitStatus::ChangesPending
    } else {
        ExitStatus::Success
    })
}

/// Asks the person at the terminal; anywhere else, only `--yes` applies.
fn confirm(ctx: &mut Ctx<'_>, question: &str) -> Result<bool, CliError> {
    if !ctx.stdin_terminal {
        return Err(CliError::usage(
            "bdi flows apply --dir changes the environment and there is no terminal to confirm on",
            Some("pass --yes to apply without asking (review the plan with `bdi flows plan` first); nothing was sent".to_owned()),
        ));
    }
    ctx.note(&format!("{question} [y/N]"))?;
    let mut line = String::new();
    ctx.stdin
        .read_line(&mut line)
        .map_err(|e| CliError::local(format!("could not read the answer: {e}")))?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// Writes the identity record back.
fn write_identity(dir: &Path, identity: &IdentityFile) -> Result<(), CliError> {
    let text = format!(
        "{IDENTITY_HEADER}{}",
        serde_norway::to_string(identity)
            .map_err(|e| CliError::local(format!("could not write the identity record: {e}")))?
    );
    write_file(&dir.join(IDENTITY_FILE), &text)
}

/// `bdi flows apply --dir DIR [--yes] [--prune] [--dry-run]`: carries out the plan. An update
/// patches only the fields that differ, through the domain's read-modify-write under the lock
/// every `bdi` process shares, so a change made meanwhile to other fields is kept. Creates are
/// recorded as they happen, so an apply stopped midway never creates a flow twice when run again.
/// Never runs a data flow.
pub(crate) async fn apply(
    ctx: &mut Ctx<'_>,
    svc: &Service,
    dir: &Path,
    a: &crate::cli::FlowApplyArgs,
) -> Result<ExitStatus, CliError> {
    let how = How {
        yes: a.yes,
        prune: a.prune,
        dry_run: a.dry_run,
    };
    carry_out(ctx, svc, dir, &how, None).await
}

/// How an apply or a promotion goes.
struct How {
    yes: bool,
    prune: bool,
    dry_run: bool,
}

/// The secrets an apply sends with each connection it creates or updates (file → values), read
/// from the environment: every one that is missing, every secret a connection stores that its
/// document does not name, and every variable to create whose value is not set, is a problem,
/// all listed before anything is sent. (A plan needs none of them: a secret is never compared.)
fn connection_secrets(
    ctx: &Ctx<'_>,
    todo: &[&plan::Change],
    documents: &Documents,
    settings: &bdi_domain::UpstreamSettings,
) -> Result<BTreeMap<String, serde_json::Map<String, Value>>, CliError> {
    let mut out = BTreeMap::new();
    let mut problems = Vec::new();
    for c in todo.iter().filter(|c| c.resource == Resource::Connection) {
        let Some(doc) = documents
            .connections
            .iter()
            .find(|d| Some(&d.file) == c.file.as_ref())
        else {
            continue;
        };
        let stored =
            c.id.as_ref()
                .and_then(|id| settings.stored_secrets.get(id))
                .cloned()
                .unwrap_or_default();
        for field in stored.iter().filter(|f| !doc.secrets.contains_key(*f)) {
            problems.push(plan::Problem {
                file: doc.file.clone(),
                path: Some("secrets".to_owned()),
                message: format!(
                    "the connection stores a {field}, which an update erases unless it is sent again: name it, `{field}: {{env: {}}}`",
                    conn_docs::secret_variable(doc.name(), field)
                ),
            });
        }
        match conn_docs::resolve_secrets(doc, ctx.vars) {
            Ok(values) => {
                out.insert(doc.file.clone(), values);
            }
            Err(more) => problems.extend(more),
        }
    }
    if let (Some(vars), Some(current)) = (&documents.variables, &settings.variables) {
        problems.extend(var_docs::problems(vars, current));
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(refused(&problems))
    }
}

/// Plans, confirms and carries out (see [`apply`]), in `ctx.env`: variables first, then
/// connections, then data flows, so that each can use what came before. A promotion carries
/// out the data flows alone, translated for the target.
async fn carry_out(
    ctx: &mut Ctx<'_>,
    svc: &Service,
    dir: &Path,
    a: &How,
    promotion: Option<&Overrides>,
) -> Result<ExitStatus, CliError> {
    let Planned {
        documents,
        mut identity,
        env_id,
        env_name,
        current,
        settings,
        plan,
    } = prepare(ctx, svc, dir, promotion).await?;
    let env_label = if env_name.is_empty() {
        env_id.clone()
    } else {
        format!("{env_name} ({env_id})")
    };
    let record = identity.environments.entry(env_id.clone()).or_default();
    if record.name.is_none() && !env_name.is_empty() {
        record.name = Some(env_name.clone());
    }
    let todo: Vec<&plan::Change> = plan.changes.iter().filter(|c| c.applies(a.prune)).collect();
    if todo.is_empty() {
        ctx.emit(
            &json!({"environment": {"id": env_id, "name": env_name}, "applied": [], "unchanged": plan.unchanged}),
            View::Text(String::new()),
        )?;
        ctx.note(&format!(
            "environment {env_label} already matches {}",
            dir.display()
        ))?;
        return Ok(ExitStatus::Success);
    }
    if ctx.format == Format::Table {
        ctx.emit(&Value::Null, View::Text(render(&plan, a.prune)))?;
    }
    if a.dry_run {
        ctx.note(&format!(
            "{}; nothing was changed (--dry-run)",
            counts(&plan, a.prune)
        ))?;
        return Ok(ExitStatus::ChangesPending);
    }
    let secrets = connection_secrets(ctx, &todo, &documents, &settings)?;
    if !a.yes
        && !confirm(
            ctx,
            &format!(
                "apply {} to environment {env_label}?",
                counts(&plan, a.prune)
            ),
        )?
    {
        ctx.note("nothing was changed")?;
        return Ok(ExitStatus::Success);
    }
    let flow_body = |file: &str| {
        documents
            .flows
            .iter()
            .find(|d| d.file == file)
            .map(|d| d.body.clone())
            .unwrap_or_default()
    };
    let mut applied = Vec::new();
    let mut failed = None;
    // The variables in one request (an upsert leaves the others alone).
    if let Some(vars) = &documents.variables {
        let send = var_docs::to_send(vars, &plan);
        if !send.is_empty() {
            match svc.backend().upsert_variables(&ctx.env, &send).await {
                Ok(()) => {
                    for c in todo.iter().filter(|c| c.resource == Resource::Variable) {
                        applied.push(json!({"resource": c.resource, "action": c.action, "name": c.name, "id": null, "file": c.file}));
                    }
                }
                Err(e) => failed = Some(("variables".to_owned(), e)),
            }
        }
    }
    let steps = todo
        .iter()
        .filter(|c| c.resource != Resource::Variable)
        .filter(|_| failed.is_none());
    for change in steps {
        let file = change.file.clone().unwrap_or_default();
        let outcome: Result<String, bdi_domain::Error> =
            match (change.resource, change.action, &change.id) {
                (Resource::Connection, action, id) => {
                    let Some(doc) = documents.connections.iter().find(|d| d.file == file) else {
                        continue;
                    };
                    let values = secrets.get(&file).cloned().unwrap_or_default();
                    match (action, id) {
                        (Action::Create, _) => svc
                            .backend()
                            .create_connection(&ctx.env, &conn_docs::create_body(doc, &values))
                            .await
                            .map(|c| c.cross_id),
                        (_, Some(id)) => {
                            let now = settings
                                .connections
                                .iter()
                                .find(|c| &c.id == id)
                                .map(|c| c.body.clone())
                                .unwrap_or_default();
                            let patch = conn_docs::update_patch(&now, doc, &values);
                            match bdi_domain::ConnectionId::parse(id) {
                                Ok(cid) => svc
                                    .update_connection(&ctx.env, &cid, &Value::Object(patch), false)
                                    .await
                                    .map(|_| id.clone()),
                                Err(e) => Err(e),
                            }
                        }
                        (_, None) => continue,
                    }
                }
                (_, Action::Create, _) => svc
                    .create_data_flow(&ctx.env, flow_body(&file))
                    .await
                    .map(|flow| flow.cross_id),
                (_, Action::Update | Action::Rename, Some(id)) => {
                    let now = current
                        .iter()
                        .find(|c| &c.id == id)
                        .map(|c| c.body.clone())
                        .unwrap_or_default();
                    let patch = plan::patch(&now, &flow_body(&file));
                    match bdi_domain::DataFlowId::parse(id) {
                        Ok(flow) => svc
                            .patch_data_flow(&ctx.env, &flow, &Value::Object(patch))
                            .await
                            .map(|_| id.clone()),
                        Err(e) => Err(e),
                    }
                }
                (_, Action::Delete, Some(id)) => match bdi_domain::DataFlowId::parse(id) {
                    Ok(flow) => svc
                        .delete_data_flow(&ctx.env, &flow)
                        .await
                        .map(|()| id.clone()),
                    Err(e) => Err(e),
                },
                (_, _, None) => continue,
            };
        match outcome {
            Ok(id) => {
                let record = identity.environments.entry(env_id.clone()).or_default();
                let ids = if change.resource == Resource::Connection {
                    &mut record.connections
                } else {
                    &mut record.flows
                };
                if change.action == Action::Delete {
                    ids.retain(|_, v| *v != id);
                } else {
                    ids.insert(file.clone(), id.clone());
                }
                applied.push(json!({"resource": change.resource, "action": change.action, "name": change.name, "id": id, "file": change.file}));
            }
            Err(e) => {
                failed = Some((change.name.clone(), e));
                break;
            }
        }
    }
    // Files matched by name are recorded too, so the next apply finds them by id.
    let record = identity.environments.entry(env_id.clone()).or_default();
    for d in &documents.flows {
        if record.flows.contains_key(&d.file) {
            continue;
        }
        let name = d.body.get("name").and_then(Value::as_str);
        if let Some(c) = current.iter().find(|c| {
            c.body.get("name").and_then(Value::as_str) == name
                && !record.flows.values().any(|v| v == &c.id)
        }) {
            record.flows.insert(d.file.clone(), c.id.clone());
        }
    }
    for d in &documents.connections {
        if record.connections.contains_key(&d.file) {
            continue;
        }
        if let Some(c) = settings.connections.iter().find(|c| {
            c.body.get("name").and_then(Value::as_str) == Some(d.name())
                && !record.connections.values().any(|v| v == &c.id)
        }) {
            record.connections.insert(d.file.clone(), c.id.clone());
        }
    }
    write_identity(dir, &identity)?;
    let data = json!({"environment": {"id": env_id, "name": env_name}, "applied": applied});
    if ctx.format != Format::Table {
        ctx.emit(&data, View::Text(String::new()))?;
    }
    if let Some((name, e)) = failed {
        ctx.note(&format!(
            "applied {} of the changes; stopped at {}: what was applied is recorded in {IDENTITY_FILE}, so applying again carries on",
            applied.len(),
            bdi_domain::error::quote(&name)
        ))?;
        return Err(CliError::from(e));
    }
    ctx.note(&format!(
        "applied {} changes to environment {env_label}",
        applied.len()
    ))?;
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn file_names_read_well() {
        assert_eq!(slug("orders to snowflake"), "orders-to-snowflake");
        assert_eq!(slug("  Orders / Daily (v2) "), "orders-daily-v2");
        assert_eq!(slug("!!!"), "data-flow");
        assert_eq!(slug("Café"), "café");
    }
}
