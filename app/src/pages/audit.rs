//! Audit: who changed what, when and from where; filtered, paged newest first, exportable.

use leptos::prelude::*;
use model::audit::{AuditFilter, AuditRow};

use crate::api::audit::list_audit;
use crate::components::{loaded::Loaded, page_header::PageHeader, ui};

/// Percent-encodes a query value.
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn export_href(f: &AuditFilter, format: &str) -> String {
    let mut q = format!("/api/audit/export?format={format}");
    for (k, v) in [
        ("actor", &f.actor),
        ("organization", &f.organization),
        ("action", &f.action),
        ("outcome", &f.outcome),
        ("from", &f.from),
        ("to", &f.to),
    ] {
        if !v.trim().is_empty() {
            q.push_str(&format!("&{k}={}", encode(v.trim())));
        }
    }
    q
}

#[component]
pub fn AuditPage() -> impl IntoView {
    // The filter being edited, and the one applied (with the page cursor).
    let draft = RwSignal::new(AuditFilter::default());
    let applied = RwSignal::new(AuditFilter::default());
    // New rows arrive live on the first page (later pages are history and stay put).
    let live = crate::live::use_live();
    let rows = Resource::new(
        move || {
            let f = applied.get();
            let tick = if f.before.is_none() {
                live.audit.get()
            } else {
                0
            };
            (f, tick)
        },
        |(f, _)| list_audit(f),
    );
    let field = move |label: &'static str,
                      testid: &'static str,
                      get: fn(&AuditFilter) -> String,
                      set: fn(&mut AuditFilter, String)| {
        view! {
            <label class="text-sm">{label}
                <input class=ui::INPUT data-testid=testid
                    prop:value=move || get(&draft.get())
                    on:input=move |ev| draft.update(|f| set(f, event_target_value(&ev))) />
            </label>
        }
    };

    view! {
        <PageHeader title="Audit" subtitle="Every change made through Strata, and every refused attempt." />
        <form
            class=format!("{} mb-4 grid gap-3 sm:grid-cols-3 lg:grid-cols-7", ui::CARD)
            on:submit=move |ev| {
                ev.prevent_default();
                let mut f = draft.get_untracked();
                f.before = None;
                applied.set(f);
            }
        >
            {field("Actor", "audit-actor", |f| f.actor.clone(), |f, v| f.actor = v)}
            {field("Organization", "audit-org", |f| f.organization.clone(), |f, v| f.organization = v)}
            {field("Action", "audit-action", |f| f.action.clone(), |f, v| f.action = v)}
            <label class="text-sm">"Outcome"
                <select class=ui::INPUT data-testid="audit-outcome"
                    on:change=move |ev| draft.update(|f| f.outcome = event_target_value(&ev))>
                    <option value="">"Any"</option>
                    <option value="success">"Success"</option>
                    <option value="denied">"Denied"</option>
                    <option value="failed">"Failed"</option>
                </select>
            </label>
            {field("From", "audit-from", |f| f.from.clone(), |f, v| f.from = v)}
            {field("To", "audit-to", |f| f.to.clone(), |f, v| f.to = v)}
            <div class="flex items-end gap-2">
                <button type="submit" class=ui::BTN_PRIMARY data-testid="audit-apply">"Filter"</button>
            </div>
        </form>
        <div class="mb-4 flex gap-3 text-sm">
            <a class="text-sky-700 underline dark:text-sky-400" data-testid="audit-export-csv" rel="external" download href=move || export_href(&applied.get(), "csv")>"Export CSV"</a>
            <a class="text-sky-700 underline dark:text-sky-400" data-testid="audit-export-jsonl" rel="external" download href=move || export_href(&applied.get(), "jsonl")>"Export JSON lines"</a>
        </div>
        <Loaded resource=rows let:rows>
                {match rows {
                    page if page.rows.is_empty() => view! {
                        <p class="text-sm text-slate-500 dark:text-slate-400" data-testid="audit-empty">"No entries match."</p>
                    }.into_any(),
                    page => {
                        let next = page.next_before;
                        view! {
                            <div class="overflow-x-auto" tabindex="0" role="region" aria-label="Audit entries">
                                <table class="w-full text-left text-sm">
                                    <thead class="text-slate-500 dark:text-slate-400">
                                        <tr><th class="py-2">"When (UTC)"</th><th>"Actor"</th><th>"Action"</th><th>"Outcome"</th><th>"Organization"</th><th>"Resource"</th><th>"From"</th><th>"Detail"</th></tr>
                                    </thead>
                                    <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                                        {page.rows.into_iter().map(row).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            {next.map(|before| view! {
                                <button type="button" class=format!("{} mt-4", ui::BTN_SECONDARY) data-testid="audit-older"
                                    on:click=move |_| applied.update(|f| f.before = Some(before))>
                                    "Older entries"
                                </button>
                            })}
                        }.into_any()
                    }
                }}
        </Loaded>
    }
}

fn row(r: AuditRow) -> impl IntoView {
    let outcome_class = match r.outcome.as_str() {
        "success" => "text-emerald-700 dark:text-emerald-400",
        "denied" => "text-amber-700 dark:text-amber-400",
        _ => "text-red-700 dark:text-red-400",
    };
    let (action, outcome) = (r.action.clone(), r.outcome.clone());
    view! {
        <tr data-testid="audit-row" data-action=action data-outcome=outcome>
            <td class="whitespace-nowrap py-1.5 font-mono text-xs">{r.at.replace('T', " ").trim_end_matches('Z').to_owned()}</td>
            <td>{r.actor}</td>
            <td class="font-mono text-xs">{r.action}</td>
            <td class=outcome_class>{r.outcome}</td>
            <td>{r.organization.unwrap_or_default()}</td>
            <td class="font-mono text-xs">{format!("{}:{}", r.resource_type, r.resource_id.chars().take(8).collect::<String>())}</td>
            <td class="text-xs" title=r.user_agent>{r.client_ip}</td>
            <td class="max-w-xs truncate font-mono text-xs" title=r.detail.clone()>{r.detail.clone()}</td>
        </tr>
    }
}
