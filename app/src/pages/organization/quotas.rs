//! The organization's quotas: usage against each limit as bars, follows live VM and service
//! changes; platform administrators edit the limits in place.

use leptos::prelude::*;
use model::quotas::{parse_limit, OrgQuota, Quota, QuotaLine};

use crate::api::orgs::{get_org_quota, set_org_quota};
use crate::components::{error_notice::ErrorNotice, loaded::Loaded, ui};

#[component]
pub fn Quotas(org_id: String) -> impl IntoView {
    let live = crate::live::use_live();
    let save = Action::new(|(id, q): &(String, Quota)| set_org_quota(id.clone(), q.clone()));
    let id = org_id.clone();
    let quota = Resource::new(
        move || (live.vms.get(), live.services.get(), save.version().get()),
        move |_| get_org_quota(id.clone()),
    );
    view! {
        <section class=ui::CARD data-testid="org-quotas">
            <h2 class="mb-3 text-base font-semibold">"Quotas"</h2>
            <Loaded resource=quota inset=true let:q>
                {view! { <QuotaBars q=q.clone() /> }.into_any()}
                {q.can_edit.then(|| view! { <QuotaForm org_id=org_id.clone() q=q.clone() save /> })}
            </Loaded>
            {move || save.value().get().and_then(Result::err).map(|error| view! { <div class="mt-3"><ErrorNotice error /></div> })}
        </section>
    }
}

#[component]
fn QuotaBars(q: OrgQuota) -> impl IntoView {
    view! {
        <ul class="space-y-3">
            {q.lines().into_iter().map(|line| view! { <Bar line /> }).collect_view()}
        </ul>
    }
}

/// One quota: "6 of 8 vCPUs", and a bar that turns amber past 80 % and red when full.
#[component]
fn Bar(line: QuotaLine) -> impl IntoView {
    let unit = if line.unit.is_empty() {
        String::new()
    } else {
        format!(" {}", line.unit)
    };
    let text = match line.limit {
        Some(limit) => format!("{} of {limit}{unit}", line.used),
        None => format!("{}{unit}, no limit", line.used),
    };
    // A limit of 0 is full from the start.
    let pct = line
        .limit
        .map(|l| {
            line.used
                .saturating_mul(100)
                .checked_div(l)
                .map_or(100, |p| p.min(100))
        })
        .unwrap_or(0);
    let color = match pct {
        100.. => "accent-red-500",
        80.. => "accent-amber-500",
        _ => "accent-sky-500",
    };
    view! {
        <li data-testid="quota" data-name=line.label>
            <div class="flex justify-between text-sm">
                <span class="font-medium">{line.label}</span>
                <span class="text-slate-600 dark:text-slate-400" data-testid="quota-text">{text}</span>
            </div>
            // A native bar: the Content-Security-Policy allows no inline style for a width.
            <progress class=format!("mt-1 h-2 w-full {color}") max="100" value=pct.to_string() aria-label=line.label></progress>
        </li>
    }
}

/// The five limits as inputs (empty: no limit), for platform administrators.
#[component]
fn QuotaForm(
    org_id: String,
    q: OrgQuota,
    save: Action<(String, Quota), Result<(), model::AppError>>,
) -> impl IntoView {
    let show = |v: Option<u64>| RwSignal::new(v.map(|n| n.to_string()).unwrap_or_default());
    let fields = [
        ("vCPUs", show(q.quota.vcpus)),
        ("Memory (MiB)", show(q.quota.memory_mb)),
        ("Disk (GiB)", show(q.quota.disk_gb)),
        ("VMs", show(q.quota.vms)),
        ("Services", show(q.quota.services)),
    ];
    let problem = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let read = |i: usize| parse_limit(fields[i].0, &fields[i].1.get_untracked());
        let parsed = (|| -> Result<Quota, String> {
            Ok(Quota {
                vcpus: read(0)?,
                memory_mb: read(1)?,
                disk_gb: read(2)?,
                vms: read(3)?,
                services: read(4)?,
            })
        })();
        match parsed {
            Ok(quota) => {
                problem.set(None);
                save.dispatch((org_id.clone(), quota));
            }
            Err(why) => problem.set(Some(why)),
        }
    };
    view! {
        <form class="mt-4 grid gap-3 border-t border-slate-200 pt-4 sm:grid-cols-5 dark:border-slate-800" data-testid="quota-form" on:submit=submit>
            {fields.into_iter().map(|(label, value)| view! {
                <label class="text-sm font-medium">{label}
                    <input class=ui::INPUT inputmode="numeric" placeholder="no limit" data-testid="quota-input" data-name=label
                        prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
                </label>
            }).collect_view()}
            <div class="flex items-center justify-between gap-3 sm:col-span-5">
                <p class="text-sm text-red-600" role="alert">{move || problem.get()}</p>
                <button type="submit" class=ui::BTN_PRIMARY data-testid="quota-save" disabled=move || save.pending().get()>"Save quotas"</button>
            </div>
        </form>
    }
}
