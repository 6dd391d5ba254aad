// The proof of concept's six cross-schema queries, in TypeScript with
// Prisma Client 7, against the merged schema (prisma/schema/, with the
// generated idp-views.prisma used unchanged). Prints one JSON document.
//
//   npx prisma generate --schema prisma/schema
//   DATABASE_URL=postgres://fuel_app:...@host/db npx tsx ts/queries.ts
import { PrismaClient } from "../generated/prisma/client";
import { PrismaPg } from "@prisma/adapter-pg";

async function main() {
  const prisma = new PrismaClient({
    adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL! }),
  });
  const order = [{ createdAt: "asc" as const }, { id: "asc" as const }];

  // 1. Cross-schema JOIN via include
  const drivers = await prisma.driver.findMany({ include: { idpUser: true }, orderBy: order });
  // 2. Filter by an IDP field
  const search = await prisma.driver.findMany({
    where: { idpUser: { firstName: { contains: "moham", mode: "insensitive" } } },
    include: { idpUser: true },
  });
  // 3. Filter by tenant
  const tenant = await prisma.driver.findMany({
    where: { idpUser: { tenantId: "0190a000-0000-7000-8000-000000000001" } },
    include: { idpUser: true },
    orderBy: order,
  });
  // 4. 3-way nested include
  const nested = await prisma.driver.findMany({
    include: { idpUser: true, orders: { orderBy: order } },
    orderBy: order,
  });
  // 5. Read-only: the database rejects a write through a view
  let write: string;
  try {
    await prisma.$executeRawUnsafe(
      `UPDATE "idp_views"."IdpUser" SET "first_name" = 'Mallory' WHERE "first_name" = 'Mohammed'`,
    );
    write = "accepted";
  } catch (e) {
    // Only the database's refusal counts, not any error: the product role has
    // no write privilege (42501); a role with one meets the views' trigger.
    const m = String(e);
    write = /Code: `42501`/.test(m)
      ? "rejected: no privilege"
      : /IDP views are read-only/.test(m)
        ? "rejected: read-only view"
        : `failed otherwise: ${m}`;
  }
  // 6. Pagination with cross-schema data and a total count
  const [page, total] = await prisma.$transaction([
    prisma.driver.findMany({
      skip: 0,
      take: 2,
      include: { idpUser: { select: { firstName: true, lastName: true } } },
      orderBy: order,
    }),
    prisma.driver.count(),
  ]);
  // The reverse relation injected from idp-relations.conf
  const users = await prisma.idpUser.findMany({
    where: { drivers: { some: {} } },
    include: { drivers: true },
    orderBy: { firstName: "asc" },
  });

  console.log(
    JSON.stringify({
      drivers: drivers.map((d) => [d.licenseNumber, d.idpUser.firstName, d.idpUserId === d.idpUser.id]),
      search: search.map((d) => d.idpUser.firstName),
      tenant: tenant.map((d) => d.licenseNumber),
      nested: nested.map((d) => [d.licenseNumber, d.orders.length]),
      write,
      page: page.map((d) => [d.licenseNumber, d.idpUser.firstName, d.idpUser.lastName]),
      total,
      users: users.map((u) => [u.firstName, u.userTypes, u.drivers.length]),
    }),
  );
  await prisma.$disconnect();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
