//! `idpviews grants`: the SQL that isolates a product's database role.

use idpviews::Package;
use std::path::PathBuf;

/// Print the SQL giving a product role its privileges (and no more).
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Prints the SQL that gives a product's role everything on its own schema \
(including CREATE, for its migrations), USAGE on the views schema and SELECT on its views \
(also on views added later, through default privileges), and nothing on the IDP's tables \
(the role's own privileges on them are revoked). It changes nothing for other roles: PUBLIC \
keeps its rights on the IDP's schemas (often `public`, shared with extensions); privileges \
PUBLIC holds on the IDP tables are reported (a WARNING when the SQL runs) and revoked only \
with --revoke-public. Run it as the role that applies the views (their owner) or a superuser. \
Creating the role and its password stays the operator's job: the SQL holds no secrets.\n\n\
Exit status: 0 with the SQL on stdout, 2 on usage errors (including an invalid name)."
)]
pub(crate) struct GrantsArgs {
    /// The views package directory (only the views schema and the IDP
    /// schemas are read from it).
    #[arg(long, value_name = "DIR")]
    pub views: PathBuf,
    /// The product's database role.
    #[arg(long)]
    pub role: String,
    /// The product's own schema.
    #[arg(long, value_name = "SCHEMA")]
    pub product_schema: String,
    /// The role that owns the views (applies the package); default: the
    /// role that runs the SQL.
    #[arg(long, value_name = "ROLE")]
    pub views_owner: Option<String>,
    /// Also revoke what PUBLIC holds on the IDP tables the views read (changes
    /// what every other role may do; without it, such privileges are only
    /// reported).
    #[arg(long)]
    pub revoke_public: bool,
}

/// Runs the command; returns the process exit status.
pub(crate) fn run(args: &GrantsArgs) -> i32 {
    let package = match Package::from_dir(&args.views) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let options = idpviews::GrantsOptions {
        views_owner: args.views_owner.clone(),
        revoke_public: args.revoke_public,
    };
    match idpviews::grants_sql_with(
        &package.manifest,
        &args.role,
        &args.product_schema,
        &options,
    ) {
        Ok(sql) => {
            print!("{sql}");
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
