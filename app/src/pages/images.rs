//! The image catalog: what VMs boot from; platform administrators add images from files on
//! the node.

use leptos::prelude::*;
use model::vms::NewImage;

use crate::api::auth::get_me;
use crate::api::vms::{list_images, register_image};
use crate::components::{
    error_notice::ErrorNotice, loaded::loaded, loaded::Loaded, page_header::PageHeader, ui,
};

#[component]
pub fn ImagesPage() -> impl IntoView {
    let register = Action::new(|image: &NewImage| register_image(image.clone()));
    let images = Resource::new(move || register.version().get(), |_| list_images());
    let me = Resource::new(|| (), |_| get_me());
    view! {
        <PageHeader title="Images" subtitle="What virtual machines boot from. Administrators add images from files on the node." />
        <Loaded resource=images let:list>
                {
                    view! {
                        <table class="mb-6 w-full text-left text-sm">
                            <thead class="text-slate-500 dark:text-slate-400">
                                <tr><th class="py-2">"Name"</th><th>"OS"</th><th>"Format"</th><th>"Size"</th><th>"SHA-256"</th></tr>
                            </thead>
                            <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                                {list.into_iter().map(|i| view! {
                                    <tr data-testid="image-row" data-name=i.name.clone()>
                                        <td class="py-2 font-medium">{i.name.clone()}</td>
                                        <td>{i.os.clone()}</td>
                                        <td>{i.format.clone()}</td>
                                        <td>{format!("{:.1} MiB", i.size_bytes as f64 / 1_048_576.0)}</td>
                                        <td class="font-mono text-xs">{i.sha256.chars().take(16).collect::<String>()} "…"</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }
        </Loaded>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let admin = loaded(me).await.and_then(Result::ok).flatten().is_some_and(|m| m.is_admin);
                admin.then(|| view! { <RegisterForm register /> })
            })}
        </Transition>
    }
}

#[component]
fn RegisterForm(
    register: Action<NewImage, Result<model::vms::ImageSummary, model::AppError>>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let os = RwSignal::new(String::new());
    let format = RwSignal::new("disk".to_owned());
    let first = RwSignal::new(String::new());
    let second = RwSignal::new(String::new());
    let cmdline = RwSignal::new(String::new());
    let marker = RwSignal::new(String::new());
    let field = |label: &'static str, value: RwSignal<String>, id: &'static str| {
        view! {
            <label class="text-sm font-medium">{label}
                <input class=ui::INPUT data-testid=id prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
            </label>
        }
    };
    view! {
        <form class=format!("{} grid gap-3 md:grid-cols-2", ui::CARD) data-testid="image-form"
            on:submit=move |ev| {
                ev.prevent_default();
                let kernel = format.get_untracked() == "kernel";
                let some = |s: String| Some(s).filter(|s| !s.trim().is_empty());
                register.dispatch(NewImage {
                    name: name.get_untracked(),
                    os: os.get_untracked(),
                    format: format.get_untracked(),
                    kernel_path: if kernel { some(first.get_untracked()) } else { None },
                    initrd_path: if kernel { some(second.get_untracked()) } else { None },
                    disk_path: if kernel { None } else { some(first.get_untracked()) },
                    cmdline: cmdline.get_untracked(),
                    boot_marker: some(marker.get_untracked()),
                });
            }>
            <h2 class="text-base font-semibold md:col-span-2">"Add an image"</h2>
            {field("Name", name, "image-name")}
            {field("OS", os, "image-os")}
            <label class="text-sm font-medium">"Format"
                <select class=ui::INPUT data-testid="image-format" on:change=move |ev| format.set(event_target_value(&ev))>
                    <option value="disk">"Bootable disk (qcow2 or raw)"</option>
                    <option value="kernel">"Kernel + initrd"</option>
                </select>
            </label>
            {move || if format.get() == "kernel" {
                view! { {field("Kernel file in the image directory", first, "image-kernel")} {field("Initrd file in the image directory", second, "image-initrd")} }.into_any()
            } else {
                view! { {field("Disk image file in the image directory", first, "image-disk")} }.into_any()
            }}
            {field("Kernel command line (optional)", cmdline, "image-cmdline")}
            {field("Boot marker printed on the console (optional)", marker, "image-marker")}
            <div class="md:col-span-2 flex justify-end">
                <button type="submit" class=ui::BTN_PRIMARY data-testid="image-register" disabled=move || register.pending().get()>
                    {move || if register.pending().get() { "Checking the files…" } else { "Add image" }}
                </button>
            </div>
            {move || register.value().get().and_then(Result::err).map(|error| view! { <div class="md:col-span-2"><ErrorNotice error /></div> })}
        </form>
    }
}
