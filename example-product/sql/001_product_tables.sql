-- fuel-logistics' tables, as `prisma migrate` creates them from
-- prisma/schema/models.prisma. Idempotent. Runs as the product's own role,
-- which owns its schema (the operator creates it: `CREATE SCHEMA
-- "fuel_logistics" AUTHORIZATION fuel_app`) and has no rights on `idp`.

CREATE TABLE IF NOT EXISTS "fuel_logistics"."drivers" (
  "id"             uuid         NOT NULL,
  "idp_user_id"    uuid         NOT NULL,
  "license_number" text         NOT NULL,
  "vehicle_plate"  text,
  "created_at"     timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "drivers_pkey" PRIMARY KEY ("id")
);
CREATE INDEX IF NOT EXISTS "drivers_idp_user_id_idx" ON "fuel_logistics"."drivers" ("idp_user_id");

CREATE TABLE IF NOT EXISTS "fuel_logistics"."orders" (
  "id"           uuid          NOT NULL,
  "driver_id"    uuid          NOT NULL,
  "litres"       numeric(10,2) NOT NULL,
  "status"       text          NOT NULL DEFAULT 'PENDING',
  "delivered_at" timestamp(3),
  "created_at"   timestamp(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "orders_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "orders_driver_id_fkey" FOREIGN KEY ("driver_id")
    REFERENCES "fuel_logistics"."drivers" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE INDEX IF NOT EXISTS "orders_driver_id_idx" ON "fuel_logistics"."orders" ("driver_id");
