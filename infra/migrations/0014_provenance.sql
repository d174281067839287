-- Where measured values came from. A KPI reading keeps the integration run that sent it and
-- the client application of the caller (its integration name was already `source`; the
-- person is the event's actor). A change-log entry of a check-in or a KPI-driven value
-- keeps when the value applied and the same provenance. Rows written before stay null
-- until the read models are rebuilt from the events.
ALTER TABLE kpi_readings
    ADD COLUMN run_id text,
    ADD COLUMN client text;

ALTER TABLE change_log
    ADD COLUMN observed_at timestamptz,
    ADD COLUMN source      text,
    ADD COLUMN run_id      text,
    ADD COLUMN client      text;
