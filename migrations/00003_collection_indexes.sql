-- +goose Up
-- Filters and orderings on the name, machine and time properties within a tenant, each ending in id, the
-- tiebreak of every ordering, so keyset pages are index ranges. NULLS FIRST is OData's ascending null order;
-- a backward scan gives its descending one (nulls last).
CREATE INDEX ccd_connector_name ON certificate_connector_details (tenant_id, connector_name NULLS FIRST, id);
CREATE INDEX ccd_machine_name ON certificate_connector_details (tenant_id, machine_name NULLS FIRST, id);
CREATE INDEX ccd_enrollment ON certificate_connector_details (tenant_id, enrollment_ticks, id);
CREATE INDEX ccd_last_checkin ON certificate_connector_details (tenant_id, last_checkin_ticks, id);

-- +goose Down
DROP INDEX ccd_last_checkin;
DROP INDEX ccd_enrollment;
DROP INDEX ccd_machine_name;
DROP INDEX ccd_connector_name;
