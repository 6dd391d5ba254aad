// Tenant isolation from Prisma Client 7 with the `@prisma/adapter-pg` driver adapter, run by
// tests/tests/db_tenant_prisma.rs as the product's role, directly and through PgBouncer in
// transaction mode. The script only observes: it prints one JSON document and the Rust test
// asserts on it.
//
// The recipe it proves (docs/database.md, "From TypeScript (Prisma 7)"):
//
//   const users = await prisma.$transaction(async (tx) => {
//     await tx.$executeRaw`SELECT idp_views.set_tenant(${tenantId})`;
//     return tx.idpUser.findMany();
//   });
import { Prisma, PrismaClient } from "./generated/client";
import { PrismaPg } from "@prisma/adapter-pg";

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const tenantA = env("TENANT_A");
const tenantB = env("TENANT_B");

// Prisma's default pool (pg.Pool): the steps run one after the other, so the pool hands every
// step the connection the earlier steps used (each step reports `pg_backend_pid()`), with
// whatever they left on it.
const prisma = new PrismaClient({
  adapter: new PrismaPg({ connectionString: env("DATABASE_URL") }),
});

type Db = PrismaClient | Prisma.TransactionClient;

const select = {
  id: true,
  email: true,
  firstName: true,
  lastName: true,
  userTypes: true,
  isActive: true,
  tenantId: true,
  createdAt: true,
} as const;

async function backend(db: Db): Promise<number> {
  const rows = await db.$queryRaw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
  return rows[0].pid;
}

/** The users the view shows to `db` now, and the server connection that answered. */
async function look(db: Db) {
  const users = await db.idpUser.findMany({ select, orderBy: { email: "asc" } });
  return { users, backend: await backend(db) };
}

/** The session-level value of the setting `set_tenant` writes. */
async function setting(db: Db): Promise<string | null> {
  const rows = await db.$queryRaw<{ v: string | null }[]>`SELECT current_setting('idpviews.tenant_id', true) AS v`;
  return rows[0].v;
}

/** `{ ok: result }`, or the error as Prisma reports it. */
async function attempt<T>(f: () => Promise<T>) {
  try {
    return { ok: await f() };
  } catch (e) {
    const err = e as { name?: string; code?: string; message?: string };
    return { error: err.name ?? "Error", code: err.code ?? null, message: String(err.message ?? e) };
  }
}

async function main() {
  const out: Record<string, unknown> = {};
  out.who = (
    await prisma.$queryRaw<{ role: string; superuser: boolean }[]>`
      SELECT current_user::text AS role, rolsuper AS superuser FROM pg_roles WHERE rolname = current_user`
  )[0];

  // a. The recipe: tenant A declared in an interactive transaction, queries on `tx`.
  // With the tenant passed again in the product's own condition (per-tenant plans), and with
  // another tenant there.
  out.a = await prisma.$transaction(async (tx) => {
    const declared = await tx.$executeRaw`SELECT idp_views.set_tenant(${tenantA})`;
    return {
      declared,
      ...(await look(tx)),
      sameTenant: await tx.idpUser.findMany({ select, where: { tenantId: tenantA }, orderBy: { email: "asc" } }),
      otherTenant: await tx.idpUser.findMany({ select, where: { tenantId: tenantB } }),
    };
  });

  // b. The next transaction declares tenant B: B's rows only, nothing carried over from A.
  out.b = await prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT idp_views.set_tenant(${tenantB})`;
    return look(tx);
  });

  // c. Then, on the same pooled connection: outside any transaction (also with the product's
  // own tenant condition), and in a transaction that declares nothing.
  out.c = {
    outside: await look(prisma),
    outsideWhere: await prisma.idpUser.findMany({ select, where: { tenantId: tenantA } }),
    undeclaredTx: await prisma.$transaction(async (tx) => look(tx)),
  };

  // d. A session-level SET of the setting: it stays on the connection, and is no tenant.
  await prisma.$executeRawUnsafe(`SET idpviews.tenant_id = '${tenantA}'`);
  out.d = {
    setting: await setting(prisma),
    outside: await look(prisma),
    undeclaredTx: await prisma.$transaction(async (tx) => ({ setting: await setting(tx), ...(await look(tx)) })),
  };
  await prisma.$executeRawUnsafe(`RESET idpviews.tenant_id`);

  // e. set_tenant outside a transaction lasts its own statement only.
  out.e = {
    declared: await prisma.$executeRaw`SELECT idp_views.set_tenant(${tenantA})`,
    after: await look(prisma),
  };

  // $queryRaw of set_tenant, which returns the declared tenant.
  out.queryRaw = await attempt(() =>
    prisma.$transaction(async (tx) => {
      const result = await tx.$queryRaw`SELECT idp_views.set_tenant(${tenantA}) AS declared`;
      return { result, ...(await look(tx)) };
    }),
  );

  // The batch form of $transaction: one transaction too.
  out.batch = await attempt(async () => {
    const [declared, users] = await prisma.$transaction([
      prisma.$executeRaw`SELECT idp_views.set_tenant(${tenantB})`,
      prisma.idpUser.findMany({ select, orderBy: { email: "asc" } }),
    ]);
    return { declared, users };
  });

  // f. An empty tenant (what "no tenant" may look like in product code) is refused.
  out.emptyTenant = await attempt(() =>
    prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT idp_views.set_tenant(${""})`;
      return look(tx);
    }),
  );

  // After all of that, still nothing without a declaration.
  out.end = await look(prisma);

  // g. Last (it makes the pool open a second connection): a query on `prisma` instead of `tx`
  // inside the callback runs on another pooled connection, outside the transaction.
  out.g = await prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT idp_views.set_tenant(${tenantA})`;
    return { onPrisma: await look(prisma), onTx: await look(tx) };
  });

  console.log(JSON.stringify(out));
  await prisma.$disconnect();
}

main().catch(async (e) => {
  console.error(e);
  await prisma.$disconnect();
  process.exit(1);
});
