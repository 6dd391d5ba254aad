//! `idpviews replica`: products on their own databases through logical replication.

use crate::format::{self, Failure, Format, FormatArgs};
use idpviews::replica::{self, PublishOptions, SubscribeOptions, UpgradeOptions};
use idpviews::{error_chain, Package};
use std::path::PathBuf;
use std::time::Duration;

/// Publish the package's columns from the IDP database and subscribe a product database to them.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Logical replication (PostgreSQL 15+) of exactly the columns a views package \
reads, so that a product can read the same views in its own database. Secret columns are in no \
column list: they never leave the IDP database. Connection strings are never printed.\n\n\
Order: `publish` on the IDP database, `subscribe` on the product database, `apply` for package \
upgrades, `status` for health checks."
)]
pub(crate) struct ReplicaArgs {
    #[command(subcommand)]
    command: ReplicaCommand,
}

#[derive(clap::Subcommand, Debug)]
enum ReplicaCommand {
    Publish(PublishArgs),
    Subscribe(SubscribeArgs),
    Apply(UpgradeArgs),
    Status(StatusArgs),
}

/// Create the publication (and the replication role) on the IDP database.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Prints the SQL of a publication listing, for each IDP table the package reads, \
exactly its allowlisted columns (a column list), optionally only one tenant's rows (a row filter \
on the tenant column), and a `LOGIN REPLICATION` role with SELECT on those columns only. With \
--database-url the replica identities are checked in the catalog and the SQL is run.\n\n\
Replica identity: without --tenant, the primary key (no change to the IDP; it must be \
allowlisted). With --tenant, a unique index (key, tenant column) is created concurrently and set \
as the replica identity: one more index on the table, a brief lock for ALTER TABLE.\n\n\
Exit status: 0 done (or printed), 1 refused or the database failed, 2 usage errors."
)]
struct PublishArgs {
    /// The views package directory.
    #[arg(long, value_name = "DIR")]
    views: PathBuf,
    /// Publication name.
    #[arg(long, value_name = "NAME", default_value = replica::DEFAULT_PUBLICATION)]
    name: String,
    /// Publish only this tenant's rows of tables with a tenant column.
    #[arg(long, value_name = "ID")]
    tenant: Option<String>,
    /// The replication role (created without a password when missing).
    #[arg(long, value_name = "ROLE", default_value = replica::DEFAULT_ROLE)]
    role: String,
    /// The IDP database (as its owner): check and run the SQL instead of only printing it.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
}

/// Create the replica tables, the views and the subscription in a product database.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "In the product database: tables with the IDP's qualified names holding only \
the published columns (types from the manifest, enum columns as text), the package's views \
(create-idp-views.sql unchanged), then the subscription, which copies the rows and streams \
changes. A failure removes what was created. Needs a superuser on the product database \
(PostgreSQL 15).\n\n\
Exit status: 0 subscribed (and ready with --wait), 1 failed, 2 usage errors."
)]
struct SubscribeArgs {
    /// The product database (as a superuser).
    #[arg(long, value_name = "URL")]
    database_url: String,
    /// The views package directory.
    #[arg(long, value_name = "DIR")]
    views: PathBuf,
    /// libpq connection string of the IDP database as the replication role (default: the
    /// IDPVIEWS_PUBLISHER environment variable, which keeps a password out of `ps`); stored in
    /// the subscription, never printed.
    #[arg(long, value_name = "CONNINFO")]
    publisher: Option<String>,
    /// The publication on the IDP database.
    #[arg(long, value_name = "NAME", default_value = replica::DEFAULT_PUBLICATION)]
    publication: String,
    /// Subscription (and replication slot) name [default: idpviews_<product database>].
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Wait up to this many seconds for the initial copy to finish.
    #[arg(long, value_name = "SECONDS")]
    wait: Option<u64>,
}

/// Upgrade publication and subscriber to a new package (append-only changes).
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Appended fields and views: subscriber columns and tables first, then the \
publication, then a refresh (new tables are copied), then a backfill of appended columns of \
existing rows, then the views. A breaking change (a dropped or retyped column, a dropped view) \
is refused, nothing changed, with the steps to do it by hand.\n\n\
Exit status: 0 upgraded or unchanged, 1 refused or failed, 2 usage errors."
)]
struct UpgradeArgs {
    /// The IDP database (as the owner of its tables).
    #[arg(long, value_name = "URL")]
    publisher_url: String,
    /// The product database (as a superuser).
    #[arg(long, value_name = "URL")]
    database_url: String,
    /// The new views package directory.
    #[arg(long, value_name = "DIR")]
    views: PathBuf,
    /// The publication.
    #[arg(long, value_name = "NAME", default_value = replica::DEFAULT_PUBLICATION)]
    name: String,
    /// The subscription [default: the only one of the publication].
    #[arg(long, value_name = "NAME")]
    subscription: Option<String>,
    /// Bound for each wait, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    timeout: u64,
}

/// Per-table state, lag and errors of the subscriptions of a product database.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Shows, per subscription, whether it is enabled and its apply worker runs, the \
error counts of PostgreSQL's statistics (the messages are in the product server's log), the \
state of each table, and the lag in bytes and seconds as the publisher measures it (with \
--publisher-url). With --format json: one `idpviews.replica-status/1` document \
(docs/schema/replica-status.v1.json), errors included.\n\n\
Exit status: 0 healthy, 1 broken (disabled, no worker, a table not streaming) or behind \
--max-lag / --max-lag-bytes, 2 usage errors."
)]
struct StatusArgs {
    /// The product database.
    #[arg(long, value_name = "URL")]
    database_url: String,
    /// Only this subscription.
    #[arg(long, value_name = "NAME")]
    subscription: Option<String>,
    /// The IDP database (pg_monitor or superuser): measure the lag.
    #[arg(long, value_name = "URL")]
    publisher_url: Option<String>,
    /// Exit 1 when the lag is over this many seconds (needs --publisher-url).
    #[arg(long, value_name = "SECONDS")]
    max_lag: Option<f64>,
    /// Exit 1 when the lag is over this many bytes (needs --publisher-url).
    #[arg(long, value_name = "BYTES")]
    max_lag_bytes: Option<i64>,
    #[command(flatten)]
    output: FormatArgs,
}

/// Runs the command; returns the process exit status.
pub(crate) fn run(args: &ReplicaArgs) -> i32 {
    let result = match &args.command {
        ReplicaCommand::Publish(a) => publish(a),
        ReplicaCommand::Subscribe(a) => subscribe(a),
        ReplicaCommand::Apply(a) => upgrade(a),
        ReplicaCommand::Status(a) => return status(a),
    };
    result.unwrap_or_else(|(code, message)| {
        eprintln!("error: {message}");
        code
    })
}

type Failed = (i32, String);

fn package(dir: &std::path::Path) -> Result<Package, Failed> {
    Package::from_dir(dir).map_err(|e| (2, e.to_string()))
}

/// Connects; the connection string is never part of a message.
fn connect(conninfo: &str, what: &str) -> Result<postgres::Client, Failed> {
    let config: postgres::Config = conninfo
        .parse()
        .map_err(|e| (2, format!("{what} is not a valid connection string: {e}")))?;
    // Every wait bounded (handshake, keepalives): the runtime's connect helper.
    idpviews::connect::connect(&config)
        .map_err(|e| (1, format!("cannot connect to {what}: {}", error_chain(&e))))
}

fn failed(e: idpviews::Error) -> Failed {
    (1, e.to_string())
}

fn publish(a: &PublishArgs) -> Result<i32, Failed> {
    let package = package(&a.views)?;
    let opts = PublishOptions {
        publication: a.name.clone(),
        role: a.role.clone(),
        tenant: a.tenant.clone(),
    };
    let Some(url) = &a.database_url else {
        let plan = replica::publication_plan(None, &package, &opts).map_err(failed)?;
        print!("{}", plan.sql());
        return Ok(0);
    };
    let mut idp = connect(url, "the IDP database (--database-url)")?;
    let plan = replica::publication_plan(Some(&mut idp), &package, &opts).map_err(failed)?;
    print!("{}", plan.sql());
    plan.execute(&mut idp).map_err(failed)?;
    println!(
        "-- published {} table(s) as `{}`",
        plan.tables.len(),
        opts.publication
    );
    Ok(0)
}

fn subscribe(a: &SubscribeArgs) -> Result<i32, Failed> {
    let package = package(&a.views)?;
    let conninfo = match a
        .publisher
        .clone()
        .or_else(|| std::env::var("IDPVIEWS_PUBLISHER").ok())
    {
        Some(c) if !c.trim().is_empty() => c,
        _ => {
            return Err((
                2,
                "no publisher: pass --publisher <CONNINFO> or set IDPVIEWS_PUBLISHER".into(),
            ))
        }
    };
    let mut publisher = connect(&conninfo, "the publisher (--publisher)")?;
    let tables =
        replica::publication_tables(&mut publisher, &package, &a.publication).map_err(failed)?;
    drop(publisher);
    let mut product = connect(&a.database_url, "the product database (--database-url)")?;
    let opts = SubscribeOptions {
        publication: a.publication.clone(),
        subscription: a.name.clone(),
        publisher: conninfo,
    };
    let done = replica::subscribe(&mut product, &package, &tables, &opts).map_err(failed)?;
    print!("{}", done.applied);
    println!(
        "subscription {} created for {}",
        done.subscription,
        done.tables.join(", ")
    );
    if let Some(secs) = a.wait {
        replica::wait_ready(&mut product, &done.subscription, Duration::from_secs(secs))
            .map_err(failed)?;
        println!("initial copy done: every table is streaming");
    }
    Ok(0)
}

fn upgrade(a: &UpgradeArgs) -> Result<i32, Failed> {
    let package = package(&a.views)?;
    let mut idp = connect(&a.publisher_url, "the IDP database (--publisher-url)")?;
    let mut product = connect(&a.database_url, "the product database (--database-url)")?;
    let opts = UpgradeOptions {
        publication: a.name.clone(),
        subscription: a.subscription.clone(),
        timeout: Duration::from_secs(a.timeout),
    };
    let done = replica::upgrade(&mut idp, &mut product, &package, &opts).map_err(failed)?;
    if done.is_unchanged() {
        println!("replication unchanged: the publication already has the package's columns");
    }
    for t in &done.added_tables {
        println!("added table {t} (copied)");
    }
    for c in &done.added_columns {
        println!("added column {c}");
    }
    if !done.added_columns.is_empty() {
        println!("backfilled {} row(s)", done.backfilled_rows);
    }
    Ok(0)
}

/// `replica status`: the only subcommand with `--format`, so it reports its own failures.
fn status(a: &StatusArgs) -> i32 {
    let format = a.output.format;
    let subs = match subscriptions(a) {
        Ok(subs) => subs,
        Err(failure) => return failure.report(format, format::REPLICA_STATUS),
    };
    let max_lag = a.max_lag.map(Duration::from_secs_f64);
    let checked: Vec<_> = subs
        .iter()
        .map(|s| (s, s.problems(max_lag, a.max_lag_bytes)))
        .collect();
    if format == Format::Json {
        format::emit(&format::replica_status(&checked));
    }
    let mut code = 0;
    for (s, problems) in &checked {
        if format == Format::Text {
            println!("{s}");
            for p in problems {
                println!("problem: {p}");
            }
        }
        if !problems.is_empty() {
            code = 1;
        }
    }
    code
}

/// The subscriptions (at least one), with their lag when the publisher is given.
fn subscriptions(a: &StatusArgs) -> Result<Vec<replica::SubscriptionStatus>, Failure> {
    if (a.max_lag.is_some() || a.max_lag_bytes.is_some()) && a.publisher_url.is_none() {
        return Err(Failure::usage(
            "--max-lag and --max-lag-bytes need --publisher-url (the lag is measured there)",
        ));
    }
    if a.max_lag.is_some_and(|s| !(s.is_finite() && s >= 0.0)) {
        return Err(Failure::usage("--max-lag must be a number of seconds >= 0"));
    }
    // `connect`'s failures: 2 an unparsable URL, 1 no connection
    let connect = |url: &str, what: &str| {
        connect(url, what).map_err(|(code, message)| {
            Failure::new(
                code,
                if code == 2 { "usage" } else { "connection" },
                message,
            )
        })
    };
    let mut product = connect(&a.database_url, "the product database (--database-url)")?;
    let mut subs = replica::status(&mut product, a.subscription.as_deref())
        .map_err(|e| Failure::from_error(&e))?;
    if subs.is_empty() {
        return Err(Failure::new(
            1,
            "no_subscription",
            "no subscription in this database",
        ));
    }
    if let Some(url) = &a.publisher_url {
        let mut idp = connect(url, "the IDP database (--publisher-url)")?;
        for s in &mut subs {
            s.lag = replica::publisher_lag(&mut idp, &s.subscription)
                .map_err(|e| Failure::from_error(&e))?;
        }
    }
    Ok(subs)
}
