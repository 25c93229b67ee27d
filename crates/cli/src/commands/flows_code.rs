//! `bdi flows pull` and `bdi flows plan`: an environment's data flows as documents in a
//! directory, and the plan that would make the environment match them (`bdi_domain::plan`).
//!
//! The directory (`docs/flows-as-code.md`):
//! - `flows/<name>.yaml`: one clean document per data flow, named after the flow when it was
//!   first pulled (`orders to snowflake` → `orders-to-snowflake.yaml`);
//! - `bdi-identity.yaml`: which data flow each file is, per environment (file → id), so that a
//!   rename in a file renames the flow, and a second pull keeps every file where it is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bdi_domain::plan::{self, Action, Current, Desired, Identity, Plan};
use bdi_domain::{Env, Service};
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
    /// The connections the pulled documents use, by name → id (what a promotion maps by name).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    connections: BTreeMap<String, String>,
}

const IDENTITY_HEADER: &str = "# Which data flow each file is, per environment (environment id → file → data flow id).\n# Written by `bdi flows pull`; keep it in git with the documents.\n";

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

/// Every data flow of the environment, in clean form, and the names of the legacy ones.
async fn upstream(ctx: &Ctx<'_>, svc: &Service) -> Result<(Vec<Current>, Vec<String>), CliError> {
    let found = svc.data_flow_documents(&ctx.env).await?;
    Ok((found.flows, found.legacy))
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

/// `bdi flows pull --dir DIR`.
pub(crate) async fn pull(
    ctx: &mut Ctx<'_>,
    svc: &Service,
    a: FlowPullArgs,
) -> Result<ExitStatus, CliError> {
    let (env_id, env_name) = environment(ctx, svc).await?;
    let mut identity = read_identity(&a.dir)?;
    let (flows, legacy) = upstream(ctx, svc).await?;
    let record = identity.environments.entry(env_id.clone()).or_default();
    record.name = Some(env_name.clone()).filter(|n| !n.is_empty());
    // A flow keeps the file it has; a new one gets a file of its own name.
    let mut file_of: BTreeMap<String, String> = record
        .flows
        .iter()
        .map(|(file, id)| (id.clone(), file.clone()))
        .collect();
    let mut taken: std::collections::BTreeSet<String> = record.flows.keys().cloned().collect();
    let mut written = Vec::new();
    for flow in &flows {
        let file = match file_of.get(&flow.id) {
            Some(file) => file.clone(),
            None => {
                let name = flow.body.get("name").and_then(Value::as_str).unwrap_or("");
                let base = slug(name);
                let mut n = 1;
                let file = loop {
                    let candidate = if n == 1 {
                        format!("{FLOWS_DIR}/{base}.yaml")
                    } else {
                        format!("{FLOWS_DIR}/{base}-{n}.yaml")
                    };
                    if !taken.contains(&candidate) && !a.dir.join(&candidate).exists() {
                        break candidate;
                    }
                    n += 1;
                };
                taken.insert(file.clone());
                file_of.insert(flow.id.clone(), file.clone());
                file
            }
        };
        write_file(
            &a.dir.join(&file),
            &yaml_text(&Value::Object(flow.body.clone())),
        )?;
        record.flows.insert(file.clone(), flow.id.clone());
        written.push(json!({"file": file, "id": flow.id, "name": flow.body.get("name")}));
    }
    // The connections the documents use, by name, for a promotion to map them.
    let listed = svc.list_all_connections(&ctx.env, 500).await?;
    let used: std::collections::BTreeSet<String> = flows
        .iter()
        .flat_map(|f| plan::connections_of(&f.body))
        .collect();
    record.connections = listed
        .items
        .iter()
        .filter(|c| used.contains(&c.cross_id))
        .map(|c| (c.connection_name.clone(), c.cross_id.clone()))
        .collect();
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
        "legacy": legacy,
        "no_longer_upstream": gone,
    });
    ctx.emit(&data, View::Text(String::new()))?;
    ctx.note(&format!(
        "pulled {} data flows of environment {} into {}",
        flows.len(),
        if env_name.is_empty() {
            &env_id
        } else {
            &env_name
        },
        a.dir.display()
    ))?;
    for name in &legacy {
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

/// The documents under `dir/flows`, in file order.
fn read_documents(dir: &Path) -> Result<Vec<Desired>, CliError> {
    let folder = dir.join(FLOWS_DIR);
    let entries = match std::fs::read_dir(&folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(CliError::local(format!(
                "could not read {}: {e}",
                folder.display()
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
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        let file = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        match crate::flowdoc::read_document(&path, &mut std::io::empty()) {
            Ok(doc) => out.push(Desired {
                file,
                body: plan::clean(&doc),
            }),
            Err(e) => problems.push(e),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(CliError::usage(
            problems.join("\n"),
            Some("fix the documents; nothing was sent".to_owned()),
        ))
    }
}

/// The plan as a person reads it.
fn render(plan: &Plan, prune: bool) -> String {
    let mut out = String::new();
    let show = |v: &Option<Value>| {
        v.as_ref()
            .map_or_else(|| "(none)".to_owned(), Value::to_string)
    };
    for c in &plan.changes {
        let who = match &c.id {
            Some(id) => format!("{} ({id})", c.name),
            None => c.name.clone(),
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
            Action::Delete if prune => format!("- delete {who}"),
            Action::Delete => format!("? {who}: upstream only (apply --prune deletes it)"),
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

/// What a plan or an apply starts from: the documents, the record, the environment and its
/// data flows, and the plan between them.
struct Planned {
    desired: Vec<Desired>,
    identity: IdentityFile,
    env_id: String,
    env_name: String,
    current: Vec<Current>,
    plan: Plan,
}

async fn prepare(
    ctx: &Ctx<'_>,
    svc: &Service,
    dir: &Path,
    promotion: Option<&Promotion>,
) -> Result<Planned, CliError> {
    let mut desired = read_documents(dir)?;
    let identity = read_identity(dir)?;
    let (env_id, env_name) = environment(ctx, svc).await?;
    if let Some(p) = promotion {
        let problems = p.translate(&mut desired, &identity);
        if !problems.is_empty() {
            return Err(refused(&problems));
        }
    }
    let record = Identity(
        identity
            .environments
            .get(&env_id)
            .map(|r| r.flows.clone())
            .unwrap_or_default(),
    );
    let (plan, current) = match svc.check_documents(&ctx.env, &desired, &record).await? {
        bdi_domain::Checked::Planned { plan, upstream } => (plan, upstream.flows),
        bdi_domain::Checked::Refused(problems) => return Err(refused(&problems)),
    };
    Ok(Planned {
        desired,
        identity,
        env_id,
        env_name,
        current,
        plan,
    })
}

/// A promotion: the documents' connections, named in the record of the environment they were
/// pulled from, mapped by name (or by the mapping file) to the target's own.
struct Promotion {
    /// The target's connections: name → id.
    target: BTreeMap<String, String>,
    /// Overrides: a source connection's name → the target's connection name or id.
    mapping: BTreeMap<String, String>,
}

/// `--map FILE`: `connections: {source name: target name or id}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    #[serde(default)]
    connections: BTreeMap<String, String>,
}

impl Promotion {
    /// Rewrites each document's connection ids for the target, and drops its `group_id` (a
    /// group is the environment's own: the target keeps its flows' groups, and gives new ones its
    /// default). Every connection that cannot be mapped is a problem, all listed.
    fn translate(&self, docs: &mut [Desired], identity: &IdentityFile) -> Vec<plan::Problem> {
        let source = identity
            .pulled_from
            .as_ref()
            .and_then(|id| identity.environments.get(id));
        let name_of: BTreeMap<&str, &str> = source
            .map(|r| {
                r.connections
                    .iter()
                    .map(|(name, id)| (id.as_str(), name.as_str()))
                    .collect()
            })
            .unwrap_or_default();
        let target_ids: std::collections::BTreeSet<&str> =
            self.target.values().map(String::as_str).collect();
        let mut problems = Vec::new();
        for d in docs.iter_mut() {
            d.body.remove("group_id");
            let Some(Value::Object(props)) = d.body.get_mut("properties") else {
                continue;
            };
            for side in ["source", "target"] {
                let Some(Value::Object(end)) = props.get_mut(side) else {
                    continue;
                };
                let Some(id) = end
                    .get("connection_id")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                else {
                    continue;
                };
                let path = Some(format!("properties.{side}.connection_id"));
                let Some(name) = name_of.get(id.as_str()) else {
                    problems.push(plan::Problem {
                        file: d.file.clone(),
                        path,
                        message: format!(
                            "connection {id} is not in the record of the environment the documents were pulled from: pull them again"
                        ),
                    });
                    continue;
                };
                let wanted = self.mapping.get(*name).map_or(*name, String::as_str);
                let mapped = self
                    .target
                    .get(wanted)
                    .map(String::as_str)
                    .or_else(|| target_ids.contains(wanted).then_some(wanted));
                match mapped {
                    Some(target) => {
                        end.insert("connection_id".to_owned(), Value::String(target.to_owned()));
                        if end.contains_key("connection_name") {
                            end.insert("connection_name".to_owned(), Value::String(wanted.to_owned()));
                        }
                    }
                    None => problems.push(plan::Problem {
                        file: d.file.clone(),
                        path,
                        message: format!(
                            "the target environment has no connection named {} (create it there, or map it in the mapping file)",
                            bdi_domain::error::quote(wanted)
                        ),
                    }),
                }
            }
        }
        problems
    }
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
                        "write `connections:` with lines `source name: target name or id`"
                            .to_owned(),
                    ),
                )
            })?
        }
        None => MappingFile::default(),
    };
    ctx.env = Env::Id(target);
    let listed = svc.list_all_connections(&ctx.env, 500).await?;
    let promotion = Promotion {
        target: listed
            .items
            .into_iter()
            .map(|c| (c.connection_name, c.cross_id))
            .collect(),
        mapping: mapping.connections,
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
        "{} to create, {} to update, {} to rename, {} {}, {} unchanged",
        count(Action::Create),
        count(Action::Update),
        count(Action::Rename),
        count(Action::Delete),
        if prune { "to delete" } else { "upstream only" },
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
        .filter(|c| a.prune || c.action != Action::Delete)
        .collect();
    let upstream_only: Vec<&plan::Change> = p
        .plan
        .changes
        .iter()
        .filter(|c| !a.prune && c.action == Action::Delete)
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

/// Plans, confirms and carries out (see [`apply`]), in `ctx.env`, with the documents translated
/// for another environment when promoting.
async fn carry_out(
    ctx: &mut Ctx<'_>,
    svc: &Service,
    dir: &Path,
    a: &How,
    promotion: Option<&Promotion>,
) -> Result<ExitStatus, CliError> {
    let Planned {
        desired,
        mut identity,
        env_id,
        env_name,
        current,
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
    let todo: Vec<&plan::Change> = plan
        .changes
        .iter()
        .filter(|c| a.prune || c.action != Action::Delete)
        .collect();
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
    let body_of = |file: &str| {
        desired
            .iter()
            .find(|d| d.file == file)
            .map(|d| d.body.clone())
            .unwrap_or_default()
    };
    let mut applied = Vec::new();
    let mut failed = None;
    for change in todo {
        let file = change.file.clone().unwrap_or_default();
        let outcome: Result<String, bdi_domain::Error> = match (change.action, &change.id) {
            (Action::Create, _) => svc
                .create_data_flow(&ctx.env, body_of(&file))
                .await
                .map(|flow| flow.cross_id),
            (Action::Update | Action::Rename, Some(id)) => {
                let now = current
                    .iter()
                    .find(|c| &c.id == id)
                    .map(|c| c.body.clone())
                    .unwrap_or_default();
                let patch = plan::patch(&now, &body_of(&file));
                match bdi_domain::DataFlowId::parse(id) {
                    Ok(flow) => svc
                        .patch_data_flow(&ctx.env, &flow, &Value::Object(patch))
                        .await
                        .map(|_| id.clone()),
                    Err(e) => Err(e),
                }
            }
            (Action::Delete, Some(id)) => match bdi_domain::DataFlowId::parse(id) {
                Ok(flow) => svc
                    .delete_data_flow(&ctx.env, &flow)
                    .await
                    .map(|()| id.clone()),
                Err(e) => Err(e),
            },
            (_, None) => continue,
        };
        match outcome {
            Ok(id) => {
                let record = identity.environments.entry(env_id.clone()).or_default();
                if change.action == Action::Delete {
                    record.flows.retain(|_, v| *v != id);
                } else {
                    record.flows.insert(file.clone(), id.clone());
                }
                applied.push(json!({"action": change.action, "name": change.name, "id": id, "file": change.file}));
            }
            Err(e) => {
                failed = Some((change.name.clone(), e));
                break;
            }
        }
    }
    // Files matched by name are recorded too, so the next apply finds them by id.
    let record = identity.environments.entry(env_id.clone()).or_default();
    for d in &desired {
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
