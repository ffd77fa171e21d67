import BerthDomain
import Foundation
import SQLKit

/// Versioned schema changes, applied in order, each in its own transaction, recorded in
/// `schema_migrations`. A migration is never edited once released: changes go into a new one.
/// The SQL is the common subset of SQLite and PostgreSQL (TEXT, BIGINT, INTEGER; times are Unix
/// milliseconds).
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let statements: [String]
}

public enum Migrations {
    public static let all: [Migration] = [
        Migration(
            version: 1, name: "spaces, environments, worker pools, accounts, targets, tasks, api keys",
            statements: [
                """
                CREATE TABLE spaces (
                    id TEXT PRIMARY KEY, name TEXT NOT NULL, slug TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE environments (
                    id TEXT PRIMARY KEY, space_id TEXT NOT NULL REFERENCES spaces(id), name TEXT NOT NULL,
                    slug TEXT NOT NULL, sort_order BIGINT NOT NULL, created_at BIGINT NOT NULL,
                    UNIQUE (space_id, slug))
                """,
                """
                CREATE TABLE worker_pools (
                    id TEXT PRIMARY KEY, space_id TEXT NOT NULL REFERENCES spaces(id), name TEXT NOT NULL,
                    slug TEXT NOT NULL, is_default BIGINT NOT NULL, created_at BIGINT NOT NULL,
                    UNIQUE (space_id, slug))
                """,
                """
                CREATE TABLE accounts (
                    id TEXT PRIMARY KEY, space_id TEXT NOT NULL REFERENCES spaces(id), kind TEXT NOT NULL,
                    name TEXT NOT NULL, slug TEXT NOT NULL, description TEXT NOT NULL, region TEXT,
                    access_key_id TEXT, secret_key TEXT, role_arn TEXT, session_duration BIGINT, audience TEXT,
                    subject_keys TEXT NOT NULL, custom_claims TEXT NOT NULL,
                    created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
                    UNIQUE (space_id, slug))
                """,
                """
                CREATE TABLE account_environments (
                    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                    environment_id TEXT NOT NULL REFERENCES environments(id),
                    PRIMARY KEY (account_id, environment_id))
                """,
                """
                CREATE TABLE targets (
                    id TEXT PRIMARY KEY, space_id TEXT NOT NULL REFERENCES spaces(id), name TEXT NOT NULL,
                    slug TEXT NOT NULL, roles TEXT NOT NULL, account_id TEXT REFERENCES accounts(id),
                    assume_role TEXT, region TEXT NOT NULL, cluster_name TEXT NOT NULL,
                    worker_pool_id TEXT NOT NULL REFERENCES worker_pools(id),
                    health_status TEXT NOT NULL, health_message TEXT, health_checked_at BIGINT, health_task_id TEXT,
                    created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
                    UNIQUE (space_id, slug))
                """,
                "CREATE INDEX targets_by_name ON targets (space_id, name)",
                """
                CREATE TABLE target_environments (
                    target_id TEXT NOT NULL REFERENCES targets(id) ON DELETE CASCADE,
                    environment_id TEXT NOT NULL REFERENCES environments(id),
                    PRIMARY KEY (target_id, environment_id))
                """,
                "CREATE INDEX target_environments_by_environment ON target_environments (environment_id)",
                """
                CREATE TABLE tasks (
                    id TEXT PRIMARY KEY, space_id TEXT NOT NULL REFERENCES spaces(id), kind TEXT NOT NULL,
                    description TEXT NOT NULL, state TEXT NOT NULL, target_id TEXT, account_id TEXT,
                    created_at BIGINT NOT NULL, started_at BIGINT, completed_at BIGINT, error_message TEXT,
                    identity_arn TEXT, health_status TEXT)
                """,
                "CREATE INDEX tasks_by_state ON tasks (state, created_at)",
                "CREATE INDEX tasks_by_created ON tasks (created_at)",
                """
                CREATE TABLE task_log (
                    task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE, sequence BIGINT NOT NULL,
                    time BIGINT NOT NULL, level TEXT NOT NULL, message TEXT NOT NULL,
                    PRIMARY KEY (task_id, sequence))
                """,
                """
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY, name TEXT NOT NULL, prefix TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
                    created_at BIGINT NOT NULL, last_used_at BIGINT, revoked_at BIGINT)
                """,
            ]),
        Migration(
            version: 2, name: "a revision per space, bumped by every change that a target listing shows",
            statements: [
                "CREATE TABLE space_revisions (space_id TEXT PRIMARY KEY REFERENCES spaces(id), revision BIGINT NOT NULL)",
                "INSERT INTO space_revisions (space_id, revision) SELECT id, 0 FROM spaces",
            ]),
        Migration(
            version: 3, name: "OIDC signing keys (the private half sealed under the master key)",
            statements: [
                """
                CREATE TABLE oidc_signing_keys (
                    id TEXT PRIMARY KEY, kid TEXT NOT NULL UNIQUE, algorithm TEXT NOT NULL, public_jwk TEXT NOT NULL,
                    private_key TEXT, created_at BIGINT NOT NULL, activates_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL, revoked_at BIGINT)
                """
            ]),
        Migration(
            version: 4, name: "projects, variables, releases, deployments, service locks, log sections",
            statements: [
                """
                CREATE TABLE projects (
                    id TEXT PRIMARY KEY, space_id TEXT NOT NULL REFERENCES spaces(id), name TEXT NOT NULL,
                    slug TEXT NOT NULL, description TEXT NOT NULL, steps TEXT NOT NULL,
                    created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
                    UNIQUE (space_id, slug))
                """,
                """
                CREATE TABLE project_variables (
                    id TEXT PRIMARY KEY, project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                    position BIGINT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, value TEXT, sealed_value TEXT,
                    scope TEXT NOT NULL)
                """,
                "CREATE INDEX project_variables_by_project ON project_variables (project_id, position)",
                """
                CREATE TABLE releases (
                    id TEXT PRIMARY KEY, space_id TEXT NOT NULL REFERENCES spaces(id),
                    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE, version TEXT NOT NULL,
                    snapshot TEXT NOT NULL, created_at BIGINT NOT NULL,
                    UNIQUE (project_id, version))
                """,
                """
                CREATE TABLE deployments (
                    id TEXT PRIMARY KEY, space_id TEXT NOT NULL REFERENCES spaces(id),
                    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                    release_id TEXT NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
                    environment_id TEXT NOT NULL REFERENCES environments(id), task_id TEXT NOT NULL UNIQUE,
                    created_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE service_locks (
                    service_key TEXT PRIMARY KEY, task_id TEXT NOT NULL, acquired_at BIGINT NOT NULL)
                """,
                "ALTER TABLE task_log ADD COLUMN section TEXT",
            ]),
        Migration(
            version: 5, name: "deployments listed by project and environment",
            statements: [
                "CREATE INDEX deployments_by_space ON deployments (space_id, created_at)",
                "CREATE INDEX deployments_by_project_environment ON deployments (project_id, environment_id, created_at)",
            ]),
        Migration(
            version: 6, name: "tasks leased by nodes, cancel requests, the nodes, jobs that run once per cluster",
            statements: [
                "ALTER TABLE tasks ADD COLUMN owner_node TEXT",
                "ALTER TABLE tasks ADD COLUMN owner_instance TEXT",
                "ALTER TABLE tasks ADD COLUMN lease_expires_at BIGINT",
                "ALTER TABLE tasks ADD COLUMN cancel_requested_at BIGINT",
                """
                CREATE TABLE nodes (
                    name TEXT PRIMARY KEY, instance TEXT NOT NULL, host TEXT NOT NULL, version TEXT NOT NULL,
                    started_at BIGINT NOT NULL, last_seen_at BIGINT NOT NULL, running BIGINT NOT NULL,
                    task_cap BIGINT NOT NULL, draining BIGINT NOT NULL DEFAULT 0)
                """,
                "CREATE TABLE cluster_jobs (name TEXT PRIMARY KEY, last_run_at BIGINT NOT NULL, node TEXT NOT NULL)",
            ]),
        Migration(
            version: 7, name: "settings: the master key's check value",
            statements: ["CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)"]),
        Migration(
            version: 8, name: "deployment progress, so that another node continues a deployment; adoptions counted",
            statements: [
                """
                CREATE TABLE deployment_progress (
                    task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE, step_index BIGINT NOT NULL,
                    target_id TEXT NOT NULL, node TEXT NOT NULL, updated_at BIGINT NOT NULL, progress TEXT NOT NULL,
                    PRIMARY KEY (task_id, step_index, target_id))
                """,
                "ALTER TABLE tasks ADD COLUMN adoptions BIGINT NOT NULL DEFAULT 0",
            ]),
        Migration(
            version: 9, name: "external workers: registration tokens, workers, step jobs and the log lines they send",
            statements: [
                """
                CREATE TABLE worker_registration_tokens (
                    id TEXT PRIMARY KEY, pool_id TEXT NOT NULL REFERENCES worker_pools(id) ON DELETE CASCADE,
                    prefix TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL, revoked_at BIGINT)
                """,
                """
                CREATE TABLE workers (
                    id TEXT PRIMARY KEY, pool_id TEXT NOT NULL REFERENCES worker_pools(id), name TEXT NOT NULL,
                    slug TEXT NOT NULL, credential_hash TEXT NOT NULL UNIQUE, version TEXT NOT NULL,
                    registered_at BIGINT NOT NULL, last_contact_at BIGINT, UNIQUE (pool_id, slug))
                """,
                """
                CREATE TABLE step_jobs (
                    id TEXT PRIMARY KEY, task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
                    step_index BIGINT NOT NULL, target_id TEXT NOT NULL, pool_id TEXT NOT NULL, state TEXT NOT NULL,
                    job TEXT NOT NULL, worker_id TEXT, worker_name TEXT, lease_expires_at BIGINT,
                    cancel_requested BIGINT NOT NULL DEFAULT 0, outcome TEXT, created_at BIGINT NOT NULL,
                    claimed_at BIGINT, finished_at BIGINT, last_log_sequence BIGINT NOT NULL DEFAULT 0)
                """,
                "CREATE INDEX step_jobs_queue ON step_jobs (pool_id, state, created_at)",
                "CREATE INDEX step_jobs_task ON step_jobs (task_id, step_index, target_id)",
                """
                CREATE TABLE step_job_log (
                    job_id TEXT NOT NULL REFERENCES step_jobs(id) ON DELETE CASCADE, sequence BIGINT NOT NULL,
                    level TEXT NOT NULL, section TEXT, message TEXT NOT NULL, PRIMARY KEY (job_id, sequence))
                """,
            ]),
        Migration(
            version: 10, name: "built-in workers: the node whose separate worker process a worker is",
            statements: ["ALTER TABLE workers ADD COLUMN built_in_node TEXT"]),
        Migration(
            version: 11, name: "people and permissions: users, teams, their members, custom roles, grants; keys have owners",
            statements: [
                """
                CREATE TABLE users (
                    id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL, email TEXT,
                    kind TEXT NOT NULL, disabled BIGINT NOT NULL DEFAULT 0, password_hash TEXT, created_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE teams (
                    id TEXT PRIMARY KEY, name TEXT NOT NULL, slug TEXT NOT NULL UNIQUE, description TEXT NOT NULL,
                    created_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE team_members (
                    team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, PRIMARY KEY (team_id, user_id))
                """,
                """
                CREATE TABLE roles (
                    id TEXT PRIMARY KEY, name TEXT NOT NULL, slug TEXT NOT NULL UNIQUE, description TEXT NOT NULL,
                    permissions TEXT NOT NULL, created_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE access_grants (
                    id TEXT PRIMARY KEY, team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
                    role_id TEXT NOT NULL, space_id TEXT REFERENCES spaces(id) ON DELETE CASCADE,
                    project_ids TEXT NOT NULL, environment_ids TEXT NOT NULL, created_at BIGINT NOT NULL)
                """,
                "CREATE INDEX access_grants_team ON access_grants (team_id)",
                "CREATE INDEX team_members_user ON team_members (user_id)",
                "ALTER TABLE api_keys ADD COLUMN user_id TEXT REFERENCES users(id)",
                // The administrator, whose rights every key made so far carries (its time is set at start).
                """
                INSERT INTO users (id, username, display_name, kind, created_at) \
                VALUES ('user-administrator', 'administrator', 'Administrator', 'person', 0)
                """,
                """
                INSERT INTO teams (id, name, slug, description, created_at) \
                VALUES ('team-administrators', 'Administrators', 'administrators', 'The System administrators.', 0)
                """,
                "INSERT INTO team_members (team_id, user_id) VALUES ('team-administrators', 'user-administrator')",
                """
                INSERT INTO access_grants (id, team_id, role_id, space_id, project_ids, environment_ids, created_at) \
                VALUES ('grant-administrators', 'team-administrators', 'role-system-administrator', NULL, '', '', 0)
                """,
                "UPDATE api_keys SET user_id = 'user-administrator'",
            ]),
        Migration(
            version: 12, name: "who queued each task",
            statements: ["ALTER TABLE tasks ADD COLUMN queued_by TEXT"]),
        Migration(
            version: 13, name: "API keys narrowed to a role and an expiry",
            statements: [
                "ALTER TABLE api_keys ADD COLUMN expires_at BIGINT",
                "ALTER TABLE api_keys ADD COLUMN limit_role_id TEXT",
                "ALTER TABLE api_keys ADD COLUMN limit_space_id TEXT",
            ]),
        Migration(
            version: 14, name: "failed logins, counted per user and per address to slow guessing",
            statements: [
                "CREATE TABLE login_failures (attempt TEXT NOT NULL, subject TEXT NOT NULL, failed_at BIGINT NOT NULL)",
                "CREATE INDEX login_failures_subject ON login_failures (subject, failed_at)",
            ]),
        Migration(
            version: 15, name: "the audit log: one chained event per change",
            statements: [
                """
                CREATE TABLE audit_events (
                    sequence BIGINT PRIMARY KEY, occurred_at BIGINT NOT NULL, actor TEXT, key_name TEXT, address TEXT,
                    action TEXT NOT NULL, record TEXT NOT NULL, details TEXT NOT NULL, tag TEXT NOT NULL)
                """,
                "CREATE INDEX audit_events_time ON audit_events (occurred_at)",
            ]),
        Migration(
            version: 16, name: "the audit log's retention cut: where its chain now starts",
            statements: [
                """
                CREATE TABLE audit_anchor (
                    id INTEGER PRIMARY KEY CHECK (id = 1), sequence BIGINT NOT NULL, tag TEXT NOT NULL, seal TEXT NOT NULL,
                    cut_at BIGINT NOT NULL)
                """
            ]),
        Migration(
            version: 17, name: "sessions of the web UI and one-time login links, by the hash of their token",
            statements: [
                """
                CREATE TABLE browser_sessions (
                    id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    token_hash TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL, last_seen_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE login_links (
                    token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)
                """,
            ]),
        Migration(
            version: 18, name: "lifecycles: the phases a project's releases pass",
            statements: [
                """
                CREATE TABLE lifecycles (
                    id TEXT PRIMARY KEY, space_id TEXT NOT NULL REFERENCES spaces(id), name TEXT NOT NULL, slug TEXT NOT NULL,
                    description TEXT NOT NULL, phases TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
                    UNIQUE (space_id, slug))
                """,
                "ALTER TABLE projects ADD COLUMN lifecycle_id TEXT REFERENCES lifecycles(id)",
            ]),
        Migration(
            version: 19, name: "manual interventions a deployment waits on",
            statements: [
                """
                CREATE TABLE interventions (
                    id TEXT PRIMARY KEY, task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE, step_index BIGINT NOT NULL,
                    step_name TEXT NOT NULL, instructions TEXT NOT NULL, teams TEXT NOT NULL, created_at BIGINT NOT NULL,
                    answer TEXT, answered_by TEXT, answered_at BIGINT, note TEXT, UNIQUE (task_id, step_index))
                """
            ]),
        Migration(
            version: 20, name: "interventions asked within a step (an ECS PAUSE hook), one per subject",
            statements: [
                """
                CREATE TABLE interventions_by_subject (
                    id TEXT PRIMARY KEY, task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE, step_index BIGINT NOT NULL,
                    subject TEXT NOT NULL DEFAULT '', step_name TEXT NOT NULL, instructions TEXT NOT NULL, teams TEXT NOT NULL,
                    created_at BIGINT NOT NULL, answer TEXT, answered_by TEXT, answered_at BIGINT, note TEXT,
                    UNIQUE (task_id, step_index, subject))
                """,
                """
                INSERT INTO interventions_by_subject (id, task_id, step_index, subject, step_name, instructions, teams, \
                created_at, answer, answered_by, answered_at, note) SELECT id, task_id, step_index, '', step_name, \
                instructions, teams, created_at, answer, answered_by, answered_at, note FROM interventions
                """,
                "DROP TABLE interventions",
                "ALTER TABLE interventions_by_subject RENAME TO interventions",
            ]),
        Migration(
            version: 21, name: "release previews: verify and diff a release in an environment",
            statements: [
                """
                CREATE TABLE release_previews (
                    task_id TEXT PRIMARY KEY REFERENCES tasks(id) ON DELETE CASCADE, space_id TEXT NOT NULL REFERENCES spaces(id),
                    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                    release_id TEXT NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
                    environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE, created_at BIGINT NOT NULL)
                """,
                "CREATE INDEX release_previews_by_release ON release_previews (release_id)",
                "CREATE INDEX release_previews_by_project ON release_previews (project_id)",
                "CREATE INDEX release_previews_by_environment ON release_previews (environment_id)",
            ]),
    ]

    /// Applies every migration newer than the database. On PostgreSQL an advisory lock keeps two
    /// nodes that start together from migrating at once.
    /// - Returns: the versions applied now.
    @discardableResult
    public static func migrate(_ database: Database) async throws -> [Int] {
        try await database.withConnection { db in
            try await db.raw(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
            ).run()
        }
        var applied: [Int] = []
        for migration in all {
            let didApply = try await database.transaction { db in
                if database.dialect == .postgres {
                    try await db.raw("SELECT pg_advisory_xact_lock(4242001)").run()
                }
                let existing = try await db.raw(
                    "SELECT version FROM schema_migrations WHERE version = \(bind: Int64(migration.version))"
                ).all()
                guard existing.isEmpty else { return false }
                for statement in migration.statements {
                    try await db.raw(SQLQueryString(statement)).run()
                }
                try await db.raw(
                    """
                    INSERT INTO schema_migrations (version, name, applied_at) VALUES \
                    (\(bind: Int64(migration.version)), \(bind: migration.name), \(bind: Date().unixMilliseconds))
                    """
                ).run()
                return true
            }
            if didApply { applied.append(migration.version) }
        }
        return applied
    }

    /// The newest version recorded in the database.
    public static func currentVersion(_ database: Database) async throws -> Int {
        try await database.withConnection { db in
            let row = try await db.raw("SELECT MAX(version) AS version FROM schema_migrations").first()
            return Int(try row?.decode(column: "version", as: Int64?.self) ?? 0)
        }
    }
}
