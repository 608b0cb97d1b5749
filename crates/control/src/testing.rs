//! Test support: every test gets its own fresh database on the backend the run asks for.
//!
//! `STRATA_TEST_DATABASE=sqlite` (the default) gives a file in a temporary directory;
//! `STRATA_TEST_DATABASE=postgres` creates a uniquely named database on the server at
//! `STRATA_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`) and drops
//! it when the test ends. A backend that cannot be reached fails the test with a clear message.
#![allow(clippy::expect_used, clippy::panic)]

use chrono::Utc;
use model::EventTransport;
use sea_orm::{ConnectionTrait, Database};
use std::path::PathBuf;

use crate::access::Authorized;
use crate::{Control, ControlConfig};

/// A database that exists for one test.
pub struct TestDb {
    pub url: String,
    /// This test's node: one directory per VM (short, as unix socket paths must be).
    pub vm_dir: PathBuf,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    Postgres { admin_url: String, name: String },
}

/// Which backend this test run uses.
pub fn backend() -> String {
    std::env::var("STRATA_TEST_DATABASE").unwrap_or_else(|_| "sqlite".to_owned())
}

impl TestDb {
    pub async fn new() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let vm_dir = std::env::temp_dir().join(format!("stn-{}", &id[..12]));
        match backend().as_str() {
            "sqlite" => {
                let dir = std::env::temp_dir().join(format!("strata-test-{id}"));
                std::fs::create_dir_all(&dir).expect("create a temporary directory");
                let url = format!("sqlite://{}?mode=rwc", dir.join("strata.db").display());
                Self {
                    url,
                    vm_dir,
                    cleanup: Cleanup::Dir(dir),
                }
            }
            "postgres" => {
                let admin_url = std::env::var("STRATA_TEST_POSTGRES_URL")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
                let name = format!("strata_test_{id}");
                let admin = Database::connect(&admin_url).await.unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL is required for STRATA_TEST_DATABASE=postgres but {admin_url} \
                         cannot be reached: {e}. Start it with `pg_ctlcluster --skip-systemctl-redirect \
                         $(ls /etc/postgresql) main start`."
                    )
                });
                let base = admin_url
                    .rsplit_once('/')
                    .map(|(base, _)| base)
                    .expect("a PostgreSQL URL ends with /DATABASE");
                let template = migrated_template(&admin, base).await;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
                    .await
                    .unwrap_or_else(|e| panic!("create test database {name}: {e}"));
                let _ = admin.close().await;
                Self {
                    url: format!("{base}/{name}"),
                    vm_dir,
                    cleanup: Cleanup::Postgres { admin_url, name },
                }
            }
            other => panic!("STRATA_TEST_DATABASE must be sqlite or postgres, not {other:?}"),
        }
    }

    /// A started control plane on this database (migrated, local node registered).
    pub async fn control(&self) -> Control {
        self.control_with(crate::auth::AuthConfig::new("http://localhost:3000"))
            .await
    }

    /// The same, with live events through Redis at `redis_url`.
    pub async fn control_with_redis(&self, redis_url: &str) -> Control {
        self.start(
            crate::auth::AuthConfig::new("http://localhost:3000"),
            Some(redis_url),
        )
        .await
    }

    /// The same, with identity settings of the test's choosing.
    pub async fn control_with(&self, auth: crate::auth::AuthConfig) -> Control {
        self.start(auth, None).await
    }

    async fn start(&self, auth: crate::auth::AuthConfig, redis_url: Option<&str>) -> Control {
        Control::start(
            &ControlConfig {
                database_url: self.url.clone(),
                events: if redis_url.is_some() {
                    EventTransport::Redis
                } else {
                    EventTransport::InProcess
                },
                redis_url: redis_url.map(str::to_owned),
                auth,
                compute: crate::ComputeConfig {
                    vm_dir: self.vm_dir.clone(),
                    image_dir: guest().join("store"),
                    ready_image: Some(guest()),
                    net_dir: self.net_dir(),
                    node_netns: Some(self.node_netns()),
                },
            },
            crate::clock::system_now(),
        )
        .await
        .expect("start the control plane on the test database")
    }
}

/// A PostgreSQL database with every migration applied, to copy for each test instead of
/// migrating each (nextest runs each test in a process of its own, so this is shared across
/// processes): named after the migrations, made once under an advisory lock, and renamed into
/// place only when complete. Templates of older migration sets are dropped.
async fn migrated_template(admin: &sea_orm::DatabaseConnection, base: &str) -> String {
    use migrations::{Migrator, MigratorTrait};
    use sea_orm::Statement;
    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    // FNV-1a of the migration names: stable across processes and Rust versions.
    let hash = names.join(",").bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let template = format!("strata_template_{hash:08x}");
    let exists = |name: String| async move {
        admin
            .query_one(Statement::from_string(
                admin.get_database_backend(),
                format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
            ))
            .await
            .expect("query pg_database")
            .is_some()
    };
    // One connection holds the lock: sea-orm's pool may hand out another for the next query.
    let lock_url = format!("{base}/postgres");
    let lock = Database::connect(&lock_url)
        .await
        .expect("connect for the lock");
    lock.execute_unprepared("SELECT pg_advisory_lock(727274)")
        .await
        .expect("take the template lock");
    if !exists(template.clone()).await {
        let building = format!("{template}_building");
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
            .await;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {building}"))
            .await
            .unwrap_or_else(|e| panic!("create {building}: {e}"));
        let db = Database::connect(&format!("{base}/{building}"))
            .await
            .expect("connect to the template");
        Migrator::up(&db, None).await.expect("migrate the template");
        let _ = db.close().await;
        admin
            .execute_unprepared(&format!("ALTER DATABASE {building} RENAME TO {template}"))
            .await
            .unwrap_or_else(|e| panic!("rename {building}: {e}"));
        let old = admin
            .query_all(Statement::from_string(
                admin.get_database_backend(),
                format!(
                    "SELECT datname FROM pg_database WHERE datname LIKE 'strata\\_template\\_%' AND datname <> '{template}'"
                ),
            ))
            .await
            .unwrap_or_default();
        for row in old {
            if let Ok(name) = row.try_get::<String>("", "datname") {
                let _ = admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
            }
        }
    }
    let _ = lock
        .execute_unprepared("SELECT pg_advisory_unlock(727274)")
        .await;
    let _ = lock.close().await;
    template
}

/// A proof of authorization for tests that write tuples or audit rows directly.
pub fn proof() -> crate::access::Authorized {
    crate::access::Authorized::system("test fixture")
}

/// The database handle, for tests that look at rows directly (no request path can: outside
/// `control` only tests reach it, through here).
pub fn db(control: &Control) -> &sea_orm::DatabaseConnection {
    control.db()
}

/// The node driver, for tests that look at the hypervisor directly.
pub fn driver(control: &Control) -> &dyn hypervisor::driver::Driver {
    control.driver()
}

/// The test guest: the ready image every test installation offers.
pub use hypervisor::testing::guest;

impl TestDb {
    /// This test's node keeps its networks here.
    pub fn net_dir(&self) -> PathBuf {
        self.vm_dir.with_extension("net")
    }

    /// This test's node is this network namespace (made by the node when a VM first needs a
    /// network, removed when the test ends): nothing of its networks touches the machine's own.
    pub fn node_netns(&self) -> String {
        format!("{}-node", hypervisor::net::tag_for(&self.net_dir()))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Any VM a test left running goes with its directory, and its networks with theirs.
        kill_vms_under(&self.vm_dir);
        let _ = std::fs::remove_dir_all(&self.vm_dir);
        let net = self.net_dir();
        hypervisor::testing::remove_node_networks(&net);
        let _ = std::fs::remove_dir_all(&net);
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime; a fresh thread may block on its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("a runtime for cleanup");
                    rt.block_on(async move {
                        if let Ok(admin) = Database::connect(&admin_url).await {
                            let _ = admin
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                                ))
                                .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// Creates an account (without passkeys) and a live session for it; returns the user id and
/// the session cookie's token. For tests of what a signed-in caller may do.
pub async fn user_with_session(
    control: &Control,
    username: &str,
    admin: bool,
) -> (sea_orm::prelude::Uuid, String) {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let now = control.now();
    let id = sea_orm::prelude::Uuid::new_v4();
    crate::entities::user::ActiveModel {
        id: Set(id),
        username: Set(username.to_owned()),
        display_name: Set(username.to_uppercase()),
        is_admin: Set(admin),
        disabled: Set(false),
        created_at: Set(now),
    }
    .insert(control.db())
    .await
    .expect("insert test user");
    crate::access::tuples::write(
        control.db(),
        &Authorized::system("test fixture"),
        &crate::access::grants::account_grants(id, admin),
        now,
    )
    .await
    .expect("grant the test user platform membership");
    let token = control
        .open_session(
            control.db(),
            id,
            &crate::auth::ClientInfo::new("127.0.0.1", "test"),
            now,
        )
        .await
        .expect("open test session");
    (id, token)
}

/// A signed-in caller for use-case tests (an account with a session).
pub async fn caller(control: &Control, username: &str, admin: bool) -> crate::auth::Caller {
    let (_, token) = user_with_session(control, username, admin).await;
    let mut caller = control
        .resolve_session(&token, control.now())
        .await
        .expect("resolve the test session")
        .expect("the test session is live");
    caller.client = crate::auth::ClientInfo::new("127.0.0.1", "test");
    caller
}

/// A new live session for an existing account; returns the cookie token.
pub async fn session_for(control: &Control, user_id: sea_orm::prelude::Uuid) -> String {
    control
        .open_session(
            control.db(),
            user_id,
            &crate::auth::ClientInfo::new("127.0.0.1", "test"),
            control.now(),
        )
        .await
        .expect("open test session")
}

/// Kills every QEMU a test left running under a directory.
pub use hypervisor::testing::kill_vms_under;

/// Operations on the target type `test`, for tests of the runner itself: `test.transient`
/// always fails in a way worth retrying, `test.ok` succeeds after one step.
pub(crate) async fn run_test_operation(
    ctx: &crate::operations::StepContext,
) -> Result<String, crate::operations::OpError> {
    ctx.step("Doing the test work").await?;
    match ctx.op.kind {
        crate::entities::states::OperationKind::TestOk => Ok("Done".into()),
        _ => Err(crate::operations::OpError::Transient(
            "the test service is unavailable".into(),
        )),
    }
}

/// Queues an operation on a `test` target (see [`run_test_operation`]).
pub async fn enqueue_test_operation(
    control: &Control,
    kind: crate::entities::states::OperationKind,
) -> sea_orm::prelude::Uuid {
    crate::operations::queue::enqueue(
        control.db(),
        &Authorized::system("test fixture"),
        crate::operations::NewOperation {
            kind,
            target: crate::access::model::Resource {
                kind: crate::access::model::Kind::Platform,
                id: uuid::Uuid::new_v4().to_string(),
            },
            organization: None,
            requested_by: None,
            generation: 1,
        },
        control.now(),
    )
    .await
    .expect("enqueue a test operation")
}

/// The Redis the tests use: `STRATA_TEST_REDIS_URL`, by default the one on this machine.
pub fn redis_url() -> String {
    let url = std::env::var("STRATA_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379/".to_owned());
    let hostport = url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap_or_default()
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .to_owned();
    assert!(
        std::net::TcpStream::connect(&hostport).is_ok(),
        "Redis is required for this test but {url} cannot be reached; start it \
         (`redis-server --daemonize yes`) or set STRATA_TEST_REDIS_URL"
    );
    url
}

/// The row of a stopped VM on the local node with nothing else: no image, no service.
fn stopped_row(
    control: &Control,
    id: uuid::Uuid,
    org: uuid::Uuid,
    name: &str,
    now: chrono::DateTime<Utc>,
) -> crate::entities::vm::ActiveModel {
    use sea_orm::ActiveValue::Set;
    crate::entities::vm::ActiveModel {
        id: Set(id),
        name: Set(name.to_owned()),
        organization_id: Set(org),
        node_id: Set(Some(control.local_node())),
        created_at: Set(now),
        description: Set(String::new()),
        image_id: Set(None),
        cpu_count: Set(1),
        memory_mb: Set(128),
        disk_gb: Set(1),
        desired_state: Set(crate::entities::states::Desired::Stopped),
        observed_state: Set(model::vms::VmState::Stopped.as_str().into()),
        state_reason: Set(None),
        generation: Set(1),
        observed_generation: Set(1),
        updated_at: Set(Some(now)),
        service_id: Set(None),
        config_version: Set(None),
        service_version: Set(None),
        tags: Set(String::new()),
    }
}

/// A stopped replica of service `service_id`, as a rollout makes it (its row and the grants
/// every replica gets) but without booting it: for permission tests that need no QEMU.
pub async fn stopped_replica(control: &Control, service_id: &str, name: &str) -> String {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
    let svc = crate::entities::service::Entity::find_by_id(
        service_id.parse::<uuid::Uuid>().expect("a service id"),
    )
    .one(control.db())
    .await
    .expect("load the service")
    .expect("the service exists");
    let id = uuid::Uuid::new_v4();
    let now = control.now();
    crate::entities::vm::ActiveModel {
        description: Set(format!("Replica of service {}", svc.name)),
        image_id: Set(svc.image_id),
        cpu_count: Set(svc.cpu_count),
        memory_mb: Set(svc.memory_mb),
        service_id: Set(Some(svc.id)),
        config_version: Set(Some(svc.config_version)),
        service_version: Set(Some(svc.version.clone())),
        ..stopped_row(control, id, svc.organization_id, name, now)
    }
    .insert(control.db())
    .await
    .expect("insert the replica");
    let grants = crate::services::replica_grants(&crate::access::model::Resource::vm(id), &svc);
    crate::access::tuples::write(
        control.db(),
        &Authorized::system("test fixture"),
        &grants,
        now,
    )
    .await
    .expect("write the replica's grants");
    id.to_string()
}

/// A stopped VM row of `owner`'s in organization `org_id`, with the grants a created VM gets,
/// but no operation queued and no disk: for benchmarks that need many rows and no QEMU.
pub async fn stopped_vm(
    control: &Control,
    org_id: &str,
    name: &str,
    owner: sea_orm::prelude::Uuid,
) -> String {
    use crate::access::model::{self as m, Kind, Rel, Resource};
    use sea_orm::ActiveModelTrait;
    let org: uuid::Uuid = org_id.parse().expect("an organization id");
    let id = uuid::Uuid::new_v4();
    let now = control.now();
    stopped_row(control, id, org, name, now)
        .insert(control.db())
        .await
        .expect("insert the VM");
    let res = Resource::vm(id);
    crate::access::tuples::write(
        control.db(),
        &Authorized::system("test fixture"),
        &[
            crate::access::tuples::points_to(&res, Rel::Organization, Kind::Organization, org_id),
            crate::access::tuples::tuple(&res, Rel::Owner, m::user(owner)),
        ],
        now,
    )
    .await
    .expect("write the VM's grants");
    id.to_string()
}

/// Refreshes the database's planner statistics (PostgreSQL here runs without autovacuum).
pub async fn analyze(control: &Control) {
    use sea_orm::ConnectionTrait;
    control
        .db()
        .execute_unprepared("ANALYZE")
        .await
        .expect("ANALYZE");
}
