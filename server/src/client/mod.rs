//! `strata` as a client of a running Strata: `login`, `vm`, `operation`, `token` and
//! `completions`, over the REST API (`/api/v1`) with a personal API token.
//!
//! Results go to stdout (a table, or JSON with `--output json`); progress and errors go to
//! stderr; the exit code says what went wrong ([`http::CliError`]).

pub mod args;
pub mod http;
pub mod output;
pub mod store;

use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use args::{
    ApiArgs, LoginArgs, OperationCommand, Output, ServiceCommand, TokenCommand, VmCommand,
    VmTarget, WaitArgs,
};
use http::{all_pages, encode, Api, CliError, CliResult};
use output::{cell, record, table};

/// How often a wait asks about its operation.
const POLL: Duration = Duration::from_millis(500);

/// The server and token to use: flags and environment first, then the stored login.
fn connect(api: &ApiArgs) -> CliResult<Api> {
    let stored = store::load()?;
    let server = api
        .server
        .clone()
        .or_else(|| stored.as_ref().map(|l| l.server.clone()));
    let token = api
        .token
        .clone()
        .or_else(|| stored.as_ref().map(|l| l.token.clone()));
    match (server, token) {
        (Some(s), Some(t)) => Ok(Api::new(&s, &t)),
        _ => Err(CliError::new(
            2,
            "not logged in: run `strata login --server URL` (or pass --server and --token)",
        )),
    }
}

/// Runs a client command; None when `command` is not one (the server's own commands).
pub fn dispatch(command: &crate::Command) -> Option<CliResult<()>> {
    use crate::Command as C;
    Some(match command {
        C::Login(args) => login(args),
        C::Vm(cmd) => vm(cmd),
        C::Service(cmd) => service(cmd),
        C::Operation(cmd) => operation(cmd),
        C::Token(cmd) => token(cmd),
        C::Completions { shell } => {
            use clap::CommandFactory;
            let mut cli = crate::Cli::command();
            clap_complete::generate(*shell, &mut cli, "strata", &mut std::io::stdout());
            Ok(())
        }
        _ => return None,
    })
}

pub fn login(args: &LoginArgs) -> CliResult<()> {
    let token = match &args.token {
        Some(t) => t.trim().to_owned(),
        None => {
            eprint!("Paste an API token (Settings > API tokens): ");
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| CliError::new(2, format!("cannot read the token: {e}")))?;
            line.trim().to_owned()
        }
    };
    if !token.starts_with(model::tokens::TOKEN_PREFIX) {
        return Err(CliError::new(
            2,
            "that is not an API token (they start with `strata_`)",
        ));
    }
    // Prove the pair works before keeping it.
    Api::new(&args.server, &token).get("/tokens?limit=1")?;
    let path = store::save(&store::Login {
        server: args.server.trim_end_matches('/').to_owned(),
        token,
    })?;
    eprintln!("Logged in to {}; saved in {}", args.server, path.display());
    Ok(())
}

/// An organization's id from its name or id.
fn organization_id(api: &Api, name_or_id: &str) -> CliResult<String> {
    let orgs = all_pages(api, "/organizations", "items")?;
    orgs.iter()
        .find(|o| o["id"] == name_or_id || o["name"] == name_or_id)
        .and_then(|o| o["id"].as_str().map(str::to_owned))
        .ok_or_else(|| CliError::new(4, format!("no organization {name_or_id} that you may see")))
}

/// A VM's id from its name or id; a name in several organizations must be given as an id.
fn vm_id(api: &Api, name_or_id: &str) -> CliResult<String> {
    if name_or_id.parse::<sea_orm::prelude::Uuid>().is_ok() {
        return Ok(name_or_id.to_owned());
    }
    let vms = all_pages(api, "/vms", "vms")?;
    let found: Vec<&Value> = vms.iter().filter(|v| v["name"] == name_or_id).collect();
    match found.as_slice() {
        [one] => Ok(cell(&one["id"])),
        [] => Err(CliError::new(
            4,
            format!("no VM {name_or_id} that you may see"),
        )),
        many => Err(CliError::new(
            2,
            format!(
                "{name_or_id} names VMs in {} organizations ({}); give its id",
                many.len(),
                many.iter()
                    .map(|v| cell(&v["organization"]))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// Follows an operation to its end, printing each new step to stderr.
pub fn wait(api: &Api, id: &str, timeout: Duration) -> CliResult<Value> {
    let started = Instant::now();
    let mut shown = 0usize;
    loop {
        let op = api.get(&format!("/operations/{}", encode(id)))?;
        let steps = op["steps"].as_array().cloned().unwrap_or_default();
        if shown == 0 && !steps.is_empty() {
            eprintln!("{} {}", cell(&op["kind"]), cell(&op["target_name"]));
        }
        for s in steps.iter().skip(shown) {
            eprintln!("  · {}", cell(&s["step"]));
        }
        shown = shown.max(steps.len());
        match op["state"].as_str() {
            Some("succeeded") => {
                eprintln!("Done in {:.1} s", started.elapsed().as_secs_f64());
                return Ok(op);
            }
            Some("failed") | Some("cancelled") => {
                return Err(CliError::new(
                    1,
                    format!(
                        "{} {}: {}",
                        cell(&op["kind"]),
                        cell(&op["state"]),
                        op["error"].as_str().unwrap_or("no reason given")
                    ),
                ))
            }
            _ => {}
        }
        if started.elapsed() >= timeout {
            return Err(CliError::new(
                7,
                format!(
                    "gave up waiting after {} s; the operation goes on: strata operation wait {id}",
                    timeout.as_secs()
                ),
            ));
        }
        // The REST API has no push: a client follows an operation by asking again.
        #[allow(clippy::disallowed_methods)]
        std::thread::sleep(POLL);
    }
}

/// Waits for the operation an accepted request names, unless asked not to.
fn follow(api: &Api, accepted: &Value, wait_args: &WaitArgs) -> CliResult<Option<Value>> {
    match accepted["operation_id"].as_str() {
        Some(op) if !wait_args.no_wait => {
            wait(api, op, Duration::from_secs(wait_args.timeout)).map(Some)
        }
        Some(op) => {
            eprintln!("Operation {op} is under way: strata operation wait {op}");
            Ok(None)
        }
        None => Ok(None),
    }
}

fn vm_rows(vms: &[Value]) -> Vec<Vec<String>> {
    vms.iter()
        .map(|v| {
            vec![
                cell(&v["name"]),
                cell(&v["organization"]),
                cell(&v["state"]),
                cell(&v["cpu_count"]),
                format!("{} MiB", cell(&v["memory_mb"])),
                cell(&v["id"]),
            ]
        })
        .collect()
}

const VM_HEADERS: [&str; 6] = ["NAME", "ORGANIZATION", "STATE", "CPUS", "MEMORY", "ID"];

pub fn vm(cmd: &VmCommand) -> CliResult<()> {
    match cmd {
        VmCommand::List { organization, api } => {
            let client = connect(api)?;
            let path = match organization {
                Some(o) => format!("/vms?organization_id={}", organization_id(&client, o)?),
                None => "/vms".to_owned(),
            };
            let vms = all_pages(&client, &path, "vms")?;
            table(
                api.output,
                &VM_HEADERS,
                &vm_rows(&vms),
                &Value::Array(vms.clone()),
            );
        }
        VmCommand::Create {
            name,
            organization,
            cpus,
            memory,
            disk,
            image,
            start,
            wait: wait_args,
            api,
        } => {
            let client = connect(api)?;
            let body = json!({
                "organization_id": organization_id(&client, organization)?,
                "name": name, "description": "", "image_id": image,
                "cpu_count": cpus, "memory_mb": memory, "disk_gb": disk, "start": start,
            });
            let created = client.post("/vms", &body)?;
            let op = follow(&client, &created, wait_args)?;
            let id = cell(&created["vm"]["id"]);
            let vm = client.get(&format!("/vms/{id}"))?;
            let out = json!({ "vm": vm["vm"], "operation": op.unwrap_or(created["operation_id"].clone()) });
            table(api.output, &VM_HEADERS, &vm_rows(&[vm["vm"].clone()]), &out);
        }
        VmCommand::Show { vm, api } => {
            let client = connect(api)?;
            let id = vm_id(&client, vm)?;
            let d = client.get(&format!("/vms/{id}"))?;
            let v = &d["vm"];
            record(
                api.output,
                &[
                    ("name", cell(&v["name"])),
                    ("id", cell(&v["id"])),
                    ("organization", cell(&v["organization"])),
                    ("state", cell(&v["state"])),
                    ("reason", cell(&v["state_reason"])),
                    ("node", cell(&d["node"])),
                    ("image", cell(&v["image"])),
                    ("cpus", cell(&v["cpu_count"])),
                    ("memory", format!("{} MiB", cell(&v["memory_mb"]))),
                    ("disk", format!("{} GiB", cell(&v["disk_gb"]))),
                    ("generation", cell(&v["generation"])),
                    ("created", cell(&v["created_at"])),
                ],
                &d,
            );
        }
        VmCommand::Console {
            vm,
            wait_for,
            timeout,
            api,
        } => {
            let client = connect(api)?;
            let id = vm_id(&client, vm)?;
            console(
                &client,
                &id,
                wait_for.as_deref(),
                Duration::from_secs(*timeout),
            )?;
        }
        VmCommand::Start(t) => act(t, "start")?,
        VmCommand::Stop(t) => act(t, "stop")?,
        VmCommand::Restart(t) => act(t, "restart")?,
        VmCommand::Delete(t) => {
            let client = connect(&t.api)?;
            let id = vm_id(&client, &t.vm)?;
            let accepted = client.delete(&format!("/vms/{id}"))?;
            let op = follow(&client, &accepted, &t.wait)?;
            record(
                t.api.output,
                &[("deleted", id.clone())],
                &json!({ "id": id, "operation": op.unwrap_or(accepted["operation_id"].clone()) }),
            );
        }
    }
    Ok(())
}

/// Streams the console's output to stdout and types stdin's lines into the guest (from a
/// thread: reading stdin blocks), until stdin ends (after a last read) or `wait_for` shows up.
fn console(api: &Api, id: &str, wait_for: Option<&str>, timeout: Duration) -> CliResult<()> {
    let (lines, typed) = std::sync::mpsc::channel::<Option<String>>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            match line {
                Ok(l) => {
                    if lines.send(Some(l)).is_err() {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = lines.send(None);
    });
    let started = Instant::now();
    let (mut offset, mut seen, mut input_done) = (0u64, String::new(), false);
    let mut stdout = std::io::stdout();
    loop {
        let out = api.get(&format!("/vms/{id}/console?offset={offset}"))?;
        let text = out["text"].as_str().unwrap_or("");
        if !text.is_empty() {
            let _ = stdout.write_all(text.replace('\r', "").as_bytes());
            let _ = stdout.flush();
            seen.push_str(text);
        }
        offset = out["next"].as_u64().unwrap_or(offset);
        if wait_for.is_some_and(|w| seen.contains(w)) {
            return Ok(());
        }
        if input_done && wait_for.is_none() {
            return Ok(());
        }
        while let Ok(next) = typed.try_recv() {
            match next {
                Some(line) => {
                    api.post(
                        &format!("/vms/{id}/console"),
                        &json!({ "text": format!("{line}\n") }),
                    )?;
                }
                None => input_done = true,
            }
        }
        if started.elapsed() >= timeout {
            return Err(CliError::new(
                7,
                match wait_for {
                    Some(w) => format!("{w:?} did not appear within {} s", timeout.as_secs()),
                    None => format!("gave up after {} s", timeout.as_secs()),
                },
            ));
        }
        // The REST API has no push: the console is read by asking again.
        #[allow(clippy::disallowed_methods)]
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn act(t: &VmTarget, action: &str) -> CliResult<()> {
    let client = connect(&t.api)?;
    let id = vm_id(&client, &t.vm)?;
    let accepted = client.post(&format!("/vms/{id}/{action}"), &Value::Null)?;
    let op = follow(&client, &accepted, &t.wait)?;
    let d = client.get(&format!("/vms/{id}"))?;
    let out = json!({ "vm": d["vm"], "operation": op.unwrap_or(accepted["operation_id"].clone()) });
    table(
        t.api.output,
        &VM_HEADERS,
        &vm_rows(&[d["vm"].clone()]),
        &out,
    );
    Ok(())
}

/// A service's id from its name or id; a name in several organizations must be given as an id.
fn service_id(api: &Api, name_or_id: &str) -> CliResult<String> {
    if name_or_id.parse::<sea_orm::prelude::Uuid>().is_ok() {
        return Ok(name_or_id.to_owned());
    }
    let all = all_pages(api, "/services", "items")?;
    let found: Vec<&Value> = all.iter().filter(|s| s["name"] == name_or_id).collect();
    match found.as_slice() {
        [one] => Ok(cell(&one["id"])),
        [] => Err(CliError::new(
            4,
            format!("no service {name_or_id} that you may see"),
        )),
        _ => Err(CliError::new(
            2,
            format!("{name_or_id} names services in several organizations; give its id"),
        )),
    }
}

fn service_rows(services: &[Value]) -> Vec<Vec<String>> {
    services
        .iter()
        .map(|s| {
            vec![
                cell(&s["name"]),
                cell(&s["organization"]),
                cell(&s["status"]),
                format!("{}/{}", cell(&s["running"]), cell(&s["replicas"])),
                cell(&s["version"]),
                format!("v{}", cell(&s["config_version"])),
                cell(&s["id"]),
            ]
        })
        .collect()
}

const SERVICE_HEADERS: [&str; 7] = [
    "NAME",
    "ORGANIZATION",
    "STATUS",
    "RUNNING",
    "VERSION",
    "CONFIG",
    "ID",
];

pub fn service(cmd: &ServiceCommand) -> CliResult<()> {
    let (api, wait_args, service, path, body) = match cmd {
        ServiceCommand::List { api } => {
            let client = connect(api)?;
            let all = all_pages(&client, "/services", "items")?;
            table(
                api.output,
                &SERVICE_HEADERS,
                &service_rows(&all),
                &Value::Array(all.clone()),
            );
            return Ok(());
        }
        ServiceCommand::Deploy {
            service,
            config_version,
            image,
            version,
            wait,
            api,
        } => (
            api,
            wait,
            service,
            "deploy",
            json!({ "config_version": config_version, "image_id": image, "version": version }),
        ),
        ServiceCommand::Scale {
            service,
            replicas,
            wait,
            api,
        } => (api, wait, service, "scale", json!({ "replicas": replicas })),
    };
    let client = connect(api)?;
    let id = service_id(&client, service)?;
    let accepted = client.post(&format!("/services/{id}/{path}"), &body)?;
    let op = follow(&client, &accepted, wait_args)?;
    let detail = client.get(&format!("/services/{id}"))?;
    let out = json!({
        "service": detail["service"],
        "deployment": accepted["deployment"],
        "operation": op.unwrap_or(accepted["operation_id"].clone()),
    });
    table(
        api.output,
        &SERVICE_HEADERS,
        &service_rows(&[detail["service"].clone()]),
        &out,
    );
    Ok(())
}

pub fn operation(cmd: &OperationCommand) -> CliResult<()> {
    match cmd {
        OperationCommand::Wait { id, timeout, api } => {
            let client = connect(api)?;
            let op = wait(&client, id, Duration::from_secs(*timeout))?;
            record(
                api.output,
                &[
                    ("operation", cell(&op["id"])),
                    ("kind", cell(&op["kind"])),
                    ("state", cell(&op["state"])),
                    ("finished", cell(&op["finished_at"])),
                ],
                &op,
            );
        }
    }
    Ok(())
}

pub fn token(cmd: &TokenCommand) -> CliResult<()> {
    match cmd {
        TokenCommand::Create {
            name,
            days,
            actions,
            organization,
            api,
        } => {
            let client = connect(api)?;
            let scope = match organization {
                Some(o) => json!({ "kind": "organization", "id": organization_id(&client, o)? }),
                None => json!({ "kind": "everything" }),
            };
            let body = json!({ "name": name, "expires_in_days": days, "actions": actions, "scope": scope });
            let created = client.post("/tokens", &body)?;
            let t = &created["token"];
            record(
                api.output,
                &[
                    ("secret", cell(&created["secret"])),
                    ("name", cell(&t["name"])),
                    ("id", cell(&t["id"])),
                    ("expires", cell(&t["expires_at"])),
                    ("scope", cell(&t["scope_label"])),
                ],
                &created,
            );
            if api.output == Output::Table {
                eprintln!("The secret is shown this once: keep it now.");
            }
        }
        TokenCommand::List { all, api } => {
            let client = connect(api)?;
            let path = if *all { "/tokens?all=true" } else { "/tokens" };
            let tokens = all_pages(&client, path, "items")?;
            let rows: Vec<Vec<String>> = tokens
                .iter()
                .map(|t| {
                    vec![
                        cell(&t["name"]),
                        cell(&t["owner"]),
                        cell(&t["status"]),
                        cell(&t["expires_at"]),
                        cell(&t["last_used_at"]),
                        cell(&t["id"]),
                    ]
                })
                .collect();
            table(
                api.output,
                &["NAME", "OWNER", "STATUS", "EXPIRES", "LAST USED", "ID"],
                &rows,
                &Value::Array(tokens.clone()),
            );
        }
        TokenCommand::Revoke { id, api } => {
            let client = connect(api)?;
            client.delete(&format!("/tokens/{}", encode(id)))?;
            record(
                api.output,
                &[("revoked", id.clone())],
                &json!({ "revoked": id }),
            );
        }
    }
    Ok(())
}
