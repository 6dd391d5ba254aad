//! `idpviews-testdb`: shows which PostgreSQL server the tests would use.
//!
//! ```text
//! cargo run -p idpviews-testdb              # source, URL (password hidden), port, version
//! cargo run -p idpviews-testdb -- create-db # also creates a database, reports on it, drops it
//! cargo run -p idpviews-testdb -- throwaway # starts a throwaway cluster, keeps it until stdin closes
//! ```

use std::process::ExitCode;

const USAGE: &str = "usage: idpviews-testdb [info|create-db|throwaway]";

/// Starts a throwaway cluster, prints its directory and port, and keeps it until stdin closes
/// (the harness's own tests kill this process to prove the cluster is removed anyway).
fn throwaway() -> Result<(), String> {
    let server = idpviews_testdb::throwaway_cluster().map_err(|e| e.to_string())?;
    let dir = server.cluster_dir().map(|d| d.display().to_string());
    println!("cluster_dir: {}", dir.unwrap_or_default());
    println!("port: {}", server.port());
    std::io::Write::flush(&mut std::io::stdout()).map_err(|e| e.to_string())?;
    let mut sink = String::new();
    while std::io::stdin()
        .read_line(&mut sink)
        .map_err(|e| e.to_string())?
        > 0
    {}
    Ok(())
}

fn run(create_db: bool) -> Result<(), String> {
    let server = idpviews_testdb::server().map_err(|e| e.to_string())?;
    println!("source: {}", server.source());
    println!("admin_url: {}", idpviews_testdb::redact(server.admin_url()));
    println!("host: {}", server.host());
    println!("port: {}", server.port());
    println!("version: {}", server.version());
    if let Some(dir) = server.cluster_dir() {
        println!("cluster_dir: {}", dir.display());
    }
    if create_db {
        let db = server.create_db().map_err(|e| e.to_string())?;
        let mut client = db.try_connect().map_err(|e| e.to_string())?;
        let row = client
            .query_one("SELECT current_user::text, current_database()::text", &[])
            .map_err(|e| e.to_string())?;
        println!("current_user: {}", row.get::<_, String>(0));
        println!("database: {}", row.get::<_, String>(1));
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let create_db = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] | ["info"] => false,
        ["create-db"] => true,
        ["throwaway"] => {
            return match throwaway() {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        ["-h"] | ["--help"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(create_db) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
