-- fixpack <version> | volume 6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60 | op reset-detached | phase apply
-- database: Cinder database (db:cinder), release 2025.1, offline generation
-- run exactly: mysql --defaults-extra-file=~/fixpack-cinder.cnf --loose-sandbox --batch < sql/20-apply-cinder.sql
-- (from the bundle directory) NEVER with --force or `source` at a prompt: a failed guard must stop the
-- client (the server rolls the open transaction back). A chunk commits only when all its guards held.
SET NAMES utf8mb4;
SET SESSION time_zone = '+00:00', sql_mode = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION',
  sql_safe_updates = 1, innodb_lock_wait_timeout = 10, lock_wait_timeout = 10, group_concat_max_len = 1048576;
SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ;

-- ==== is this the right database? (read-only; stops the client if not) ====
-- identity 1/2: the Cinder database (tables only it has: volume_attachment, volumes), each table touched with the
--   columns of release 2025.1 (fixpack catalog) (a hash of its `column DATA_TYPE NULL|NOT NULL` lines); what
--   differs is printed here
SET @fixpack_check = (SELECT IF(SUM(`TABLE_NAME` IN ('volume_attachment', 'volumes')) = 2, NULL,
      CONCAT('service tables here: ', COALESCE(GROUP_CONCAT(`TABLE_NAME` ORDER BY `TABLE_NAME` SEPARATOR ', '),
      'none'))) FROM `information_schema`.`TABLES` WHERE `TABLE_SCHEMA` = DATABASE() AND `TABLE_NAME` IN
    ('cell_mappings', 'compute_nodes', 'consumer_types', 'instance_mappings', 'instances', 'volume_attachment',
      'volumes'));
SET @fixpack_check = COALESCE(@fixpack_check, (SELECT NULLIF(CONCAT_WS('; ', GROUP_CONCAT(IF(CONCAT(`t`, ':',
      LEFT(SHA2(`cols`, 256), 16)) IN ('attachment_specs:41c52641eeb1410d', 'volume_admin_metadata:4a884ced5885a887',
      'volume_attachment:cb2b2d3aeabe6d83', 'volumes:8d17a48b5ee017a3'), NULL, CONCAT(`t`, ': ', `cols`)) ORDER BY `t`
      SEPARATOR '; '), IF(COUNT(*) = 4, NULL, CONCAT(COUNT(*), ' of the 4 tables are here'))), '') FROM (SELECT
      CAST(`TABLE_NAME` AS CHAR) AS `t`, GROUP_CONCAT(CONCAT_WS(' ', CAST(`COLUMN_NAME` AS CHAR), CAST(IF(`DATA_TYPE` =
      'json', 'longtext', `DATA_TYPE`) AS CHAR), IF(`IS_NULLABLE` = 'YES', 'NULL', 'NOT NULL')) ORDER BY
      CAST(`COLUMN_NAME` AS BINARY) SEPARATOR ', ') AS `cols` FROM `information_schema`.`COLUMNS` WHERE `TABLE_SCHEMA`
      = DATABASE() AND `TABLE_NAME` IN ('attachment_specs', 'volume_admin_metadata', 'volume_attachment', 'volumes')
      GROUP BY `TABLE_NAME`) AS `f`));
SELECT 'the Cinder database with the columns of release 2025.1 (fixpack catalog)' AS `expected`, @fixpack_check
  AS `found`
FROM DUAL
WHERE NOT (@fixpack_check IS NULL);
SELECT 'identity: the Cinder database with the columns of release 2025.1 (fixpack catalog)' AS `guard`, (SELECT 1 UNION
    ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_check IS NULL)) AS `ok`;
-- identity 2/2: volume 6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60 is here (it tells the right database)
SET @fixpack_check = (SELECT COUNT(*) FROM `volumes` WHERE `id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60');
SELECT 'volume 6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60 in volumes here' AS `expected`, CONCAT(CAST(@fixpack_check
      AS CHAR), ' row(s) in volumes') AS `found`
FROM DUAL
WHERE NOT ((@fixpack_check > 0) <=> TRUE);
SELECT 'identity: volume 6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60 is in this database' AS `guard`, (SELECT 1 UNION ALL
    SELECT 2 FROM DUAL WHERE NOT ((@fixpack_check > 0) <=> TRUE)) AS `ok`;

-- the server's Galera write-set limits (checked below, before the first write)
SET @fixpack_ws_query = CONCAT('SELECT MAX(IF(n = ''wsrep_on'', v, NULL)), MAX(IF(n = ',
    '''wsrep_max_ws_rows'', v, NULL)), MAX(IF(n = ''wsrep_max_ws_size'', v, ',
    'NULL)) INTO @fixpack_ws_on, @fixpack_ws_rows, @fixpack_ws_size FROM ',
    '(SELECT LOWER(VARIABLE_NAME) AS n, VARIABLE_VALUE AS v FROM', ' ', IF((SELECT COUNT(*) FROM
      `information_schema`.`TABLES` WHERE `TABLE_SCHEMA` = 'information_schema' AND `TABLE_NAME` = 'GLOBAL_VARIABLES')
      > 0, 'information_schema.GLOBAL_VARIABLES', 'performance_schema.global_variables'), ') AS w');
PREPARE fixpack_ws_read FROM @fixpack_ws_query;
EXECUTE fixpack_ws_read;
DEALLOCATE PREPARE fixpack_ws_read;

-- ==== round 1/2: one transaction, at most 1000 row(s) in all steps ====
START TRANSACTION;
SET @fixpack_now = UTC_TIMESTAMP();
-- precondition: volume 6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60 is in this database
SELECT 'volume 6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60 is in this database' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM
    DUAL WHERE NOT ((SELECT COUNT(*) FROM `volumes` WHERE `volumes`.`id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60') =
      1)) AS `ok`;
-- precondition: no transitional status changed less than 1h ago (--allow-recent-transition, --stale-after)
SELECT 'no transitional status changed less than 1h ago (--allow-recent-transition, --stale-after)' AS `guard`, (SELECT
    1 UNION ALL SELECT 2 FROM DUAL WHERE NOT ((SELECT COUNT(*) FROM `volumes` WHERE `volumes`.`id` =
      '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volumes`.`deleted` = 0 AND `volumes`.`status` IN ('creating',
      'deleting', 'error_managing_deleting', 'unmanaging', 'managing', 'attaching', 'detaching', 'maintenance',
      'backing-up', 'restoring-backup', 'downloading', 'uploading', 'retyping', 'extending') AND `volumes`.`updated_at`
      > UTC_TIMESTAMP() - INTERVAL 3600 SECOND AND (`volumes`.`id` IN (SELECT `volume_attachment`.`volume_id` FROM
      `volume_attachment` WHERE `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND
      `volume_attachment`.`deleted` = 0) OR (`volumes`.`id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND
      `volumes`.`deleted` = 0 AND (NOT `volumes`.`status` <=> 'available' OR NOT `volumes`.`attach_status` <=>
      'detached')))) = 0)) AS `ok`;
-- precondition: the volume is not being migrated (--allow-migrating to override)
SELECT 'the volume is not being migrated (--allow-migrating to override)' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM
    DUAL WHERE NOT ((SELECT COUNT(*) FROM `volumes` WHERE `volumes`.`id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND
      `volumes`.`deleted` = 0 AND (`volumes`.`migration_status` IN ('starting', 'migrating', 'completing') OR
      `volumes`.`migration_status` LIKE 'target:%')) = 0)) AS `ok`;
-- precondition: the legacy attachment_specs of the attachments to close have keys and values of printable ASCII
--   only (only then does SQL write the connector exactly as json.dumps in Cinder; else generate live (--cinder-
--   url), which computes the connector in Python)
SELECT CONCAT('the legacy attachment_specs of the attachments to close have keys and values of printable ASCII ',
    'only (only then does SQL write the connector exactly as json.dumps in Cinder; else generate live',
    ' (--cinder-url), which computes the connector in Python)') AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL
    WHERE NOT ((SELECT COUNT(*) FROM `attachment_specs` WHERE `attachment_specs`.`deleted` = 0 AND
      `attachment_specs`.`attachment_id` IN (SELECT `volume_attachment`.`id` FROM `volume_attachment` WHERE
      `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_attachment`.`deleted` = 0)
      AND (`attachment_specs`.`key` IS NULL OR NOT (LENGTH(`attachment_specs`.`key`) = 0 OR
      REGEXP_INSTR(HEX(`attachment_specs`.`key`), '^([2-6][0-9A-F]|7[0-9A-E])+$') = 1) OR NOT
      (`attachment_specs`.`value` IS NULL OR (LENGTH(`attachment_specs`.`value`) = 0 OR
      REGEXP_INSTR(HEX(`attachment_specs`.`value`), '^([2-6][0-9A-F]|7[0-9A-E])+$') = 1)))) = 0)) AS `ok`;
-- precondition: no attachment to close has a legacy attachment_specs key twice (Cinder keeps one; else generate
--   live (--cinder-url), which computes the connector in Python)
SELECT CONCAT('no attachment to close has a legacy attachment_specs key twice (Cinder keeps one; else generate ',
    'live (--cinder-url), which computes the connector in Python)') AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL
    WHERE NOT ((SELECT COUNT(*) FROM `volume_attachment` WHERE `volume_attachment`.`volume_id` =
      '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_attachment`.`deleted` = 0 AND `volume_attachment`.`id` IN
      (SELECT `attachment_specs`.`attachment_id` FROM `attachment_specs` WHERE `attachment_specs`.`deleted` = 0 GROUP
      BY `attachment_specs`.`attachment_id`, HEX(`attachment_specs`.`key`) HAVING COUNT(*) > 1)) = 0)) AS `ok`;
-- precondition: JSON_QUOTE on this server escapes printable ASCII as json.dumps of Python does (checked where
--   legacy attachment_specs are to be migrated; else generate live (--cinder-url), which computes the connector in
--   Python)
SELECT CONCAT('JSON_QUOTE on this server escapes printable ASCII as json.dumps of Python does (checked where le',
    'gacy attachment_specs are to be migrated; else generate live (--cinder-url), which computes the ',
    'connector in Python)') AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT ((SELECT COUNT(*) FROM
      `attachment_specs` WHERE `attachment_specs`.`deleted` = 0 AND `attachment_specs`.`attachment_id` IN (SELECT
      `volume_attachment`.`id` FROM `volume_attachment` WHERE `volume_attachment`.`volume_id` =
      '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_attachment`.`deleted` = 0) AND NOT
      HEX(JSON_QUOTE(CAST(UNHEX(CONCAT('202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F',
      '404142434445464748494A4B4C4D4E4F505152535455565758595A5B5C5D5E5F',
      '606162636465666768696A6B6C6D6E6F707172737475767778797A7B7C7D7E')) AS CHAR))) =
      CONCAT('2220215C22232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D',
      '3E3F404142434445464748494A4B4C4D4E4F505152535455565758595A5B5C5C',
      '5D5E5F606162636465666768696A6B6C6D6E6F707172737475767778797A7B7C', '7D7E22')) = 0)) AS `ok`;
-- before the first write: each step at most 1000 rows, all steps at most 2000 (2 transaction(s) of at most 1000
--   rows), and the server's Galera write-set limits fit a chunk
SET @fixpack_total = 0;
SET @fixpack_scope = (SELECT COUNT(*) FROM `volume_attachment` WHERE `volume_id` =
    '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `deleted` = 0 FOR UPDATE);
SELECT 'step 1: volume_attachment' AS `step`, @fixpack_scope AS `rows_found`;
SELECT 'step 1: volume_attachment: at most 1000 rows (offline bundles repair one target)' AS `guard`, (SELECT 1 UNION
    ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_scope <= 1000)) AS `ok`;
SET @fixpack_total = @fixpack_total + @fixpack_scope;
SET @fixpack_count_1 = @fixpack_scope;
SET @fixpack_estimate_1 = (SELECT 2 * (2 * (COALESCE(MAX(LENGTH(CONCAT_WS('', HEX(`created_at`), HEX(`updated_at`),
      HEX(`deleted_at`), HEX(`deleted`), HEX(`id`), HEX(`volume_id`), HEX(`attached_host`), HEX(`instance_uuid`),
      HEX(`mountpoint`), HEX(`attach_time`), HEX(`detach_time`), HEX(`attach_mode`), HEX(`attach_status`),
      HEX(`connection_info`), HEX(`connector`))) / 2), 0) + 90) + 64) FROM `volume_attachment` WHERE `volume_id` =
    '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `deleted` = 0);
SET @fixpack_scope = (SELECT COUNT(*) FROM `attachment_specs` WHERE `attachment_specs`.`attachment_id` IN (SELECT
      `volume_attachment`.`id` FROM `volume_attachment` WHERE `volume_attachment`.`volume_id` =
      '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND (`volume_attachment`.`deleted` = 0 OR NOT
      `volume_attachment`.`connector` IS NULL)) AND `attachment_specs`.`deleted` = 0 FOR UPDATE);
SELECT 'step 2: attachment_specs' AS `step`, @fixpack_scope AS `rows_found`;
SELECT 'step 2: attachment_specs: at most 1000 rows (offline bundles repair one target)' AS `guard`, (SELECT 1 UNION
    ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_scope <= 1000)) AS `ok`;
SET @fixpack_total = @fixpack_total + @fixpack_scope;
SET @fixpack_count_2 = @fixpack_scope;
SET @fixpack_estimate_2 = (SELECT 2 * (2 * (COALESCE(MAX(LENGTH(CONCAT_WS('', HEX(`attachment_specs`.`created_at`),
      HEX(`attachment_specs`.`updated_at`), HEX(`attachment_specs`.`deleted_at`), HEX(`attachment_specs`.`deleted`),
      HEX(`attachment_specs`.`id`), HEX(`attachment_specs`.`attachment_id`), HEX(`attachment_specs`.`key`),
      HEX(`attachment_specs`.`value`))) / 2), 0) + 48) + 64) FROM `attachment_specs` WHERE
    `attachment_specs`.`attachment_id` IN (SELECT `volume_attachment`.`id` FROM `volume_attachment` WHERE
      `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND (`volume_attachment`.`deleted` = 0
      OR NOT `volume_attachment`.`connector` IS NULL)) AND `attachment_specs`.`deleted` = 0);
SET @fixpack_scope = (SELECT COUNT(*) FROM `volume_admin_metadata` WHERE `volume_id` =
    '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `key` = 'attached_mode' AND `deleted` = 0 FOR UPDATE);
SELECT 'step 3: volume_admin_metadata' AS `step`, @fixpack_scope AS `rows_found`;
SELECT 'step 3: volume_admin_metadata: at most 1000 rows (offline bundles repair one target)' AS `guard`, (SELECT 1
    UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_scope <= 1000)) AS `ok`;
SET @fixpack_total = @fixpack_total + @fixpack_scope;
SET @fixpack_count_3 = @fixpack_scope;
SET @fixpack_estimate_3 = (SELECT 2 * (2 * (COALESCE(MAX(LENGTH(CONCAT_WS('', HEX(`created_at`), HEX(`updated_at`),
      HEX(`deleted_at`), HEX(`deleted`), HEX(`id`), HEX(`volume_id`), HEX(`key`), HEX(`value`))) / 2), 0) + 48) + 64)
    FROM `volume_admin_metadata` WHERE `volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `key` = 'attached_mode'
    AND `deleted` = 0);
SET @fixpack_scope = (SELECT COUNT(*) FROM `volumes` WHERE `id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `deleted`
    = 0 AND (NOT `status` <=> 'available' OR NOT `attach_status` <=> 'detached') FOR UPDATE);
SELECT 'step 4: volumes' AS `step`, @fixpack_scope AS `rows_found`;
SELECT 'step 4: volumes: at most 1000 rows (offline bundles repair one target)' AS `guard`, (SELECT 1 UNION ALL SELECT
    2 FROM DUAL WHERE NOT (@fixpack_scope <= 1000)) AS `ok`;
SET @fixpack_total = @fixpack_total + @fixpack_scope;
SET @fixpack_count_4 = @fixpack_scope;
SET @fixpack_estimate_4 = (SELECT 2 * (2 * (COALESCE(MAX(LENGTH(CONCAT_WS('', HEX(`created_at`), HEX(`updated_at`),
      HEX(`deleted_at`), HEX(`deleted`), HEX(`id`), HEX(`ec2_id`), HEX(`user_id`), HEX(`project_id`), HEX(`host`),
      HEX(`size`), HEX(`availability_zone`), HEX(`status`), HEX(`attach_status`), HEX(`scheduled_at`),
      HEX(`launched_at`), HEX(`terminated_at`), HEX(`display_name`), HEX(`display_description`),
      HEX(`provider_location`), HEX(`provider_auth`), HEX(`snapshot_id`), HEX(`volume_type_id`), HEX(`source_volid`),
      HEX(`bootable`), HEX(`provider_geometry`), HEX(`_name_id`), HEX(`encryption_key_id`), HEX(`migration_status`),
      HEX(`replication_status`), HEX(`replication_extended_status`), HEX(`replication_driver_data`),
      HEX(`consistencygroup_id`), HEX(`provider_id`), HEX(`multiattach`), HEX(`previous_status`), HEX(`cluster_name`),
      HEX(`group_id`), HEX(`service_uuid`), HEX(`shared_targets`), HEX(`use_quota`))) / 2), 0) + 240) + 64) FROM
    `volumes` WHERE `id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `deleted` = 0 AND (NOT `status` <=> 'available'
      OR NOT `attach_status` <=> 'detached'));
SET @fixpack_ws_bytes = (SELECT COALESCE(SUM(LEAST(`s`.`n`, 1000) * `s`.`e`), 0) FROM (SELECT @fixpack_count_1 AS `n`,
      @fixpack_estimate_1 AS `e` UNION ALL SELECT @fixpack_count_2 AS `n`, @fixpack_estimate_2 AS `e` UNION ALL SELECT
      @fixpack_count_3 AS `n`, @fixpack_estimate_3 AS `e` UNION ALL SELECT @fixpack_count_4 AS `n`, @fixpack_estimate_4
      AS `e`) AS `s`);
SET @fixpack_ws_lo = 0;
SET @fixpack_ws_hi = 1000;
SET @fixpack_ws_mid = FLOOR((@fixpack_ws_lo + @fixpack_ws_hi + 1) / 2);
SET @fixpack_ws_ok = IF((SELECT COALESCE(SUM(LEAST(`s`.`n`, @fixpack_ws_mid) * `s`.`e`), 0) FROM (SELECT
      @fixpack_count_1 AS `n`, @fixpack_estimate_1 AS `e` UNION ALL SELECT @fixpack_count_2 AS `n`, @fixpack_estimate_2
      AS `e` UNION ALL SELECT @fixpack_count_3 AS `n`, @fixpack_estimate_3 AS `e` UNION ALL SELECT @fixpack_count_4
      AS `n`, @fixpack_estimate_4 AS `e`) AS `s`) <= COALESCE(@fixpack_ws_size, 0), 1, 0);
SET @fixpack_ws_lo = IF(@fixpack_ws_ok = 1, @fixpack_ws_mid, @fixpack_ws_lo);
SET @fixpack_ws_hi = IF(@fixpack_ws_ok = 1, @fixpack_ws_hi, @fixpack_ws_mid - 1);
SET @fixpack_ws_mid = FLOOR((@fixpack_ws_lo + @fixpack_ws_hi + 1) / 2);
SET @fixpack_ws_ok = IF((SELECT COALESCE(SUM(LEAST(`s`.`n`, @fixpack_ws_mid) * `s`.`e`), 0) FROM (SELECT
      @fixpack_count_1 AS `n`, @fixpack_estimate_1 AS `e` UNION ALL SELECT @fixpack_count_2 AS `n`, @fixpack_estimate_2
      AS `e` UNION ALL SELECT @fixpack_count_3 AS `n`, @fixpack_estimate_3 AS `e` UNION ALL SELECT @fixpack_count_4
      AS `n`, @fixpack_estimate_4 AS `e`) AS `s`) <= COALESCE(@fixpack_ws_size, 0), 1, 0);
SET @fixpack_ws_lo = IF(@fixpack_ws_ok = 1, @fixpack_ws_mid, @fixpack_ws_lo);
SET @fixpack_ws_hi = IF(@fixpack_ws_ok = 1, @fixpack_ws_hi, @fixpack_ws_mid - 1);
SET @fixpack_ws_mid = FLOOR((@fixpack_ws_lo + @fixpack_ws_hi + 1) / 2);
SET @fixpack_ws_ok = IF((SELECT COALESCE(SUM(LEAST(`s`.`n`, @fixpack_ws_mid) * `s`.`e`), 0) FROM (SELECT
      @fixpack_count_1 AS `n`, @fixpack_estimate_1 AS `e` UNION ALL SELECT @fixpack_count_2 AS `n`, @fixpack_estimate_2
      AS `e` UNION ALL SELECT @fixpack_count_3 AS `n`, @fixpack_estimate_3 AS `e` UNION ALL SELECT @fixpack_count_4
      AS `n`, @fixpack_estimate_4 AS `e`) AS `s`) <= COALESCE(@fixpack_ws_size, 0), 1, 0);
SET @fixpack_ws_lo = IF(@fixpack_ws_ok = 1, @fixpack_ws_mid, @fixpack_ws_lo);
SET @fixpack_ws_hi = IF(@fixpack_ws_ok = 1, @fixpack_ws_hi, @fixpack_ws_mid - 1);
SET @fixpack_ws_mid = FLOOR((@fixpack_ws_lo + @fixpack_ws_hi + 1) / 2);
SET @fixpack_ws_ok = IF((SELECT COALESCE(SUM(LEAST(`s`.`n`, @fixpack_ws_mid) * `s`.`e`), 0) FROM (SELECT
      @fixpack_count_1 AS `n`, @fixpack_estimate_1 AS `e` UNION ALL SELECT @fixpack_count_2 AS `n`, @fixpack_estimate_2
      AS `e` UNION ALL SELECT @fixpack_count_3 AS `n`, @fixpack_estimate_3 AS `e` UNION ALL SELECT @fixpack_count_4
      AS `n`, @fixpack_estimate_4 AS `e`) AS `s`) <= COALESCE(@fixpack_ws_size, 0), 1, 0);
SET @fixpack_ws_lo = IF(@fixpack_ws_ok = 1, @fixpack_ws_mid, @fixpack_ws_lo);
SET @fixpack_ws_hi = IF(@fixpack_ws_ok = 1, @fixpack_ws_hi, @fixpack_ws_mid - 1);
SET @fixpack_ws_mid = FLOOR((@fixpack_ws_lo + @fixpack_ws_hi + 1) / 2);
SET @fixpack_ws_ok = IF((SELECT COALESCE(SUM(LEAST(`s`.`n`, @fixpack_ws_mid) * `s`.`e`), 0) FROM (SELECT
      @fixpack_count_1 AS `n`, @fixpack_estimate_1 AS `e` UNION ALL SELECT @fixpack_count_2 AS `n`, @fixpack_estimate_2
      AS `e` UNION ALL SELECT @fixpack_count_3 AS `n`, @fixpack_estimate_3 AS `e` UNION ALL SELECT @fixpack_count_4
      AS `n`, @fixpack_estimate_4 AS `e`) AS `s`) <= COALESCE(@fixpack_ws_size, 0), 1, 0);
SET @fixpack_ws_lo = IF(@fixpack_ws_ok = 1, @fixpack_ws_mid, @fixpack_ws_lo);
SET @fixpack_ws_hi = IF(@fixpack_ws_ok = 1, @fixpack_ws_hi, @fixpack_ws_mid - 1);
SET @fixpack_ws_mid = FLOOR((@fixpack_ws_lo + @fixpack_ws_hi + 1) / 2);
SET @fixpack_ws_ok = IF((SELECT COALESCE(SUM(LEAST(`s`.`n`, @fixpack_ws_mid) * `s`.`e`), 0) FROM (SELECT
      @fixpack_count_1 AS `n`, @fixpack_estimate_1 AS `e` UNION ALL SELECT @fixpack_count_2 AS `n`, @fixpack_estimate_2
      AS `e` UNION ALL SELECT @fixpack_count_3 AS `n`, @fixpack_estimate_3 AS `e` UNION ALL SELECT @fixpack_count_4
      AS `n`, @fixpack_estimate_4 AS `e`) AS `s`) <= COALESCE(@fixpack_ws_size, 0), 1, 0);
SET @fixpack_ws_lo = IF(@fixpack_ws_ok = 1, @fixpack_ws_mid, @fixpack_ws_lo);
SET @fixpack_ws_hi = IF(@fixpack_ws_ok = 1, @fixpack_ws_hi, @fixpack_ws_mid - 1);
SET @fixpack_ws_mid = FLOOR((@fixpack_ws_lo + @fixpack_ws_hi + 1) / 2);
SET @fixpack_ws_ok = IF((SELECT COALESCE(SUM(LEAST(`s`.`n`, @fixpack_ws_mid) * `s`.`e`), 0) FROM (SELECT
      @fixpack_count_1 AS `n`, @fixpack_estimate_1 AS `e` UNION ALL SELECT @fixpack_count_2 AS `n`, @fixpack_estimate_2
      AS `e` UNION ALL SELECT @fixpack_count_3 AS `n`, @fixpack_estimate_3 AS `e` UNION ALL SELECT @fixpack_count_4
      AS `n`, @fixpack_estimate_4 AS `e`) AS `s`) <= COALESCE(@fixpack_ws_size, 0), 1, 0);
SET @fixpack_ws_lo = IF(@fixpack_ws_ok = 1, @fixpack_ws_mid, @fixpack_ws_lo);
SET @fixpack_ws_hi = IF(@fixpack_ws_ok = 1, @fixpack_ws_hi, @fixpack_ws_mid - 1);
SET @fixpack_ws_mid = FLOOR((@fixpack_ws_lo + @fixpack_ws_hi + 1) / 2);
SET @fixpack_ws_ok = IF((SELECT COALESCE(SUM(LEAST(`s`.`n`, @fixpack_ws_mid) * `s`.`e`), 0) FROM (SELECT
      @fixpack_count_1 AS `n`, @fixpack_estimate_1 AS `e` UNION ALL SELECT @fixpack_count_2 AS `n`, @fixpack_estimate_2
      AS `e` UNION ALL SELECT @fixpack_count_3 AS `n`, @fixpack_estimate_3 AS `e` UNION ALL SELECT @fixpack_count_4
      AS `n`, @fixpack_estimate_4 AS `e`) AS `s`) <= COALESCE(@fixpack_ws_size, 0), 1, 0);
SET @fixpack_ws_lo = IF(@fixpack_ws_ok = 1, @fixpack_ws_mid, @fixpack_ws_lo);
SET @fixpack_ws_hi = IF(@fixpack_ws_ok = 1, @fixpack_ws_hi, @fixpack_ws_mid - 1);
SET @fixpack_ws_mid = FLOOR((@fixpack_ws_lo + @fixpack_ws_hi + 1) / 2);
SET @fixpack_ws_ok = IF((SELECT COALESCE(SUM(LEAST(`s`.`n`, @fixpack_ws_mid) * `s`.`e`), 0) FROM (SELECT
      @fixpack_count_1 AS `n`, @fixpack_estimate_1 AS `e` UNION ALL SELECT @fixpack_count_2 AS `n`, @fixpack_estimate_2
      AS `e` UNION ALL SELECT @fixpack_count_3 AS `n`, @fixpack_estimate_3 AS `e` UNION ALL SELECT @fixpack_count_4
      AS `n`, @fixpack_estimate_4 AS `e`) AS `s`) <= COALESCE(@fixpack_ws_size, 0), 1, 0);
SET @fixpack_ws_lo = IF(@fixpack_ws_ok = 1, @fixpack_ws_mid, @fixpack_ws_lo);
SET @fixpack_ws_hi = IF(@fixpack_ws_ok = 1, @fixpack_ws_hi, @fixpack_ws_mid - 1);
SET @fixpack_ws_mid = FLOOR((@fixpack_ws_lo + @fixpack_ws_hi + 1) / 2);
SET @fixpack_ws_ok = IF((SELECT COALESCE(SUM(LEAST(`s`.`n`, @fixpack_ws_mid) * `s`.`e`), 0) FROM (SELECT
      @fixpack_count_1 AS `n`, @fixpack_estimate_1 AS `e` UNION ALL SELECT @fixpack_count_2 AS `n`, @fixpack_estimate_2
      AS `e` UNION ALL SELECT @fixpack_count_3 AS `n`, @fixpack_estimate_3 AS `e` UNION ALL SELECT @fixpack_count_4
      AS `n`, @fixpack_estimate_4 AS `e`) AS `s`) <= COALESCE(@fixpack_ws_size, 0), 1, 0);
SET @fixpack_ws_lo = IF(@fixpack_ws_ok = 1, @fixpack_ws_mid, @fixpack_ws_lo);
SET @fixpack_ws_hi = IF(@fixpack_ws_ok = 1, @fixpack_ws_hi, @fixpack_ws_mid - 1);
SELECT CONCAT('ERROR: the steps would change ', @fixpack_total,
    CONCAT(' rows; this apply holds 2 transaction(s) of at most 1000 rows (2000 in all). Nothing was changed',
      '. Regenerate with a larger --chunk-rows.')) AS `fixpack`
FROM DUAL
WHERE @fixpack_total > 2000;
SELECT 'all steps together at most 2000 rows' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT
    (@fixpack_total <= 2000)) AS `ok`;
SET @fixpack_ws_refuse = IF(UPPER(COALESCE(@fixpack_ws_on, 'OFF')) IN ('ON', '1') AND ((COALESCE(@fixpack_ws_rows, 0) >
      0 AND COALESCE(@fixpack_ws_rows, 0) < 1000) OR (COALESCE(@fixpack_ws_size, 0) > 0 AND COALESCE(@fixpack_ws_size,
      0) < COALESCE(@fixpack_ws_bytes, 0))), 1, 0);
SELECT CONCAT('ERROR: this offline apply changes up to 1000 row(s) per transaction (chunk); ',
    'this Galera node has wsrep_max_ws_rows=', COALESCE(@fixpack_ws_rows, 0), ' and wsrep_max_ws_size=',
    COALESCE(@fixpack_ws_size, 0), ' (estimated write set of a chunk: ', CEILING(COALESCE(@fixpack_ws_bytes, 0)),
    ' bytes), so a chunk would fail with ERROR 1180. Nothing was changed. ',
    'Regenerate the bundle with --chunk-rows ', LEAST(COALESCE(@fixpack_ws_lo, 1000), IF(COALESCE(@fixpack_ws_rows, 0)
      > 0, COALESCE(@fixpack_ws_rows, 0), 1000)), ' (or fewer).') AS `fixpack`
FROM DUAL
WHERE @fixpack_ws_refuse = 1;
SELECT 'Galera write-set limits: a chunk of 1000 row(s) fits (or wsrep is off)' AS `guard`, (SELECT 1 UNION ALL SELECT
    2 FROM DUAL WHERE NOT (@fixpack_ws_refuse <=> 0)) AS `ok`;
SET @fixpack_budget = 1000;

-- step 1: volume_attachment (round 1): close the attachment as volume_detached does
--   (VolumeAttachment.delete_values); legacy specs first become the connector, as loading it does — rows: live
--   attachments of volume 6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60
SET @fixpack_scope = (SELECT COUNT(*) FROM `volume_attachment` WHERE `volume_id` =
    '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `deleted` = 0 FOR UPDATE);
SET @fixpack_take = LEAST(@fixpack_scope, @fixpack_budget);
SET @fixpack_hi_1_0 = (SELECT `fixpack_ranked`.`id` FROM (SELECT `id`, ROW_NUMBER() OVER (ORDER BY `id`) AS `fixpack_n`
      FROM `volume_attachment` WHERE `volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `deleted` = 0)
    AS `fixpack_ranked` WHERE `fixpack_ranked`.`fixpack_n` = @fixpack_take);
SELECT 'step 1: volume_attachment (round 1)' AS `step`, @fixpack_take AS `rows`;
SELECT CONCAT('step 1: volume_attachment (round 1): the last row within the budget was found (or there is nothi',
    'ng to take)') AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_take = 0 OR NOT
      @fixpack_hi_1_0 IS NULL)) AS `ok`;
SET @fixpack_rc = 0;
UPDATE `volume_attachment`
SET `volume_attachment`.`attach_status` = 'detached', `volume_attachment`.`deleted` = 1,
  `volume_attachment`.`deleted_at` = @fixpack_now, `volume_attachment`.`detach_time` = @fixpack_now,
  `volume_attachment`.`updated_at` = @fixpack_now, `volume_attachment`.`connector` = (SELECT COALESCE(CONCAT('{',
      GROUP_CONCAT(CONCAT(JSON_QUOTE(`attachment_specs`.`key`), ': ', COALESCE(JSON_QUOTE(`attachment_specs`.`value`),
      'null')) ORDER BY `attachment_specs`.`id` SEPARATOR ', '), '}'), `volume_attachment`.`connector`) FROM
    `attachment_specs` WHERE `attachment_specs`.`attachment_id` = `volume_attachment`.`id` AND
    `attachment_specs`.`deleted` = 0)
WHERE `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_attachment`.`deleted` = 0
  AND `volume_attachment`.`id` <= @fixpack_hi_1_0;
SET @fixpack_rc = @fixpack_rc + ROW_COUNT();
SELECT 'step 1: volume_attachment (round 1): changed the rows it took' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM
    DUAL WHERE NOT (@fixpack_rc <=> @fixpack_take)) AS `ok`;
SET @fixpack_after = (SELECT COUNT(*) FROM `volume_attachment` WHERE `volume_id` =
    '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `deleted` = 0);
SELECT 'step 1: volume_attachment (round 1): the rest of the scope is left for the next round' AS `guard`, (SELECT 1
    UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_after <=> @fixpack_scope - @fixpack_take)) AS `ok`;
SET @fixpack_budget = @fixpack_budget - @fixpack_take;

-- step 2: attachment_specs (round 1): soft-delete the legacy connector specs, as Cinder does when it loads the
--   attachment — rows: live specs of the attachments to close (or closed with their connector)
SET @fixpack_scope = (SELECT COUNT(*) FROM `attachment_specs` WHERE `attachment_specs`.`attachment_id` IN (SELECT
      `volume_attachment`.`id` FROM `volume_attachment` WHERE `volume_attachment`.`volume_id` =
      '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND (`volume_attachment`.`deleted` = 0 OR NOT
      `volume_attachment`.`connector` IS NULL)) AND `attachment_specs`.`deleted` = 0 FOR UPDATE);
SET @fixpack_take = LEAST(@fixpack_scope, @fixpack_budget);
SET @fixpack_hi_2_0 = (SELECT `fixpack_ranked`.`id` FROM (SELECT `attachment_specs`.`id`, ROW_NUMBER() OVER (ORDER BY
      `attachment_specs`.`id`) AS `fixpack_n` FROM `attachment_specs` WHERE `attachment_specs`.`attachment_id` IN
      (SELECT `volume_attachment`.`id` FROM `volume_attachment` WHERE `volume_attachment`.`volume_id` =
      '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND (`volume_attachment`.`deleted` = 0 OR NOT
      `volume_attachment`.`connector` IS NULL)) AND `attachment_specs`.`deleted` = 0) AS `fixpack_ranked` WHERE
    `fixpack_ranked`.`fixpack_n` = @fixpack_take);
SELECT 'step 2: attachment_specs (round 1)' AS `step`, @fixpack_take AS `rows`;
SELECT CONCAT('step 2: attachment_specs (round 1): the last row within the budget was found (or there is nothin',
    'g to take)') AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_take = 0 OR NOT
      @fixpack_hi_2_0 IS NULL)) AS `ok`;
SET @fixpack_rc = 0;
-- attachment_specs has no index on the scope's columns, so safe-update mode would refuse this statement: it is
--   keyed on the target UUID (lint FX001) and its row count is guarded before and after, so safe updates are off
--   for this one statement
SET SESSION sql_safe_updates = 0;
UPDATE `attachment_specs`
SET `attachment_specs`.`deleted` = 1, `attachment_specs`.`deleted_at` = @fixpack_now
WHERE `attachment_specs`.`attachment_id` IN (SELECT `volume_attachment`.`id` FROM `volume_attachment` WHERE
    `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND (`volume_attachment`.`deleted` = 0 OR
      NOT `volume_attachment`.`connector` IS NULL)) AND `attachment_specs`.`deleted` = 0 AND `attachment_specs`.`id` <=
  @fixpack_hi_2_0;
SET @fixpack_rc = @fixpack_rc + ROW_COUNT();
SET SESSION sql_safe_updates = 1;
SELECT 'step 2: attachment_specs (round 1): changed the rows it took' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM
    DUAL WHERE NOT (@fixpack_rc <=> @fixpack_take)) AS `ok`;
SET @fixpack_after = (SELECT COUNT(*) FROM `attachment_specs` WHERE `attachment_specs`.`attachment_id` IN (SELECT
      `volume_attachment`.`id` FROM `volume_attachment` WHERE `volume_attachment`.`volume_id` =
      '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND (`volume_attachment`.`deleted` = 0 OR NOT
      `volume_attachment`.`connector` IS NULL)) AND `attachment_specs`.`deleted` = 0);
SELECT 'step 2: attachment_specs (round 1): the rest of the scope is left for the next round' AS `guard`, (SELECT 1
    UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_after <=> @fixpack_scope - @fixpack_take)) AS `ok`;
SET @fixpack_budget = @fixpack_budget - @fixpack_take;

-- step 3: volume_admin_metadata (round 1): forget the attach mode, as finish_detach does — rows: live
--   attached_mode admin metadata of volume(s) 6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60
SET @fixpack_scope = (SELECT COUNT(*) FROM `volume_admin_metadata` WHERE `volume_id` =
    '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `key` = 'attached_mode' AND `deleted` = 0 FOR UPDATE);
SET @fixpack_take = LEAST(@fixpack_scope, @fixpack_budget);
SET @fixpack_hi_3_0 = (SELECT `fixpack_ranked`.`id` FROM (SELECT `id`, ROW_NUMBER() OVER (ORDER BY `id`) AS `fixpack_n`
      FROM `volume_admin_metadata` WHERE `volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `key` =
      'attached_mode' AND `deleted` = 0) AS `fixpack_ranked` WHERE `fixpack_ranked`.`fixpack_n` = @fixpack_take);
SELECT 'step 3: volume_admin_metadata (round 1)' AS `step`, @fixpack_take AS `rows`;
SELECT CONCAT('step 3: volume_admin_metadata (round 1): the last row within the budget was found (or there is n',
    'othing to take)') AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_take = 0 OR NOT
      @fixpack_hi_3_0 IS NULL)) AS `ok`;
SET @fixpack_rc = 0;
UPDATE `volume_admin_metadata`
SET `deleted` = 1, `deleted_at` = @fixpack_now
WHERE `volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `key` = 'attached_mode' AND `deleted` = 0 AND `id` <=
  @fixpack_hi_3_0;
SET @fixpack_rc = @fixpack_rc + ROW_COUNT();
SELECT 'step 3: volume_admin_metadata (round 1): changed the rows it took' AS `guard`, (SELECT 1 UNION ALL SELECT 2
    FROM DUAL WHERE NOT (@fixpack_rc <=> @fixpack_take)) AS `ok`;
SET @fixpack_after = (SELECT COUNT(*) FROM `volume_admin_metadata` WHERE `volume_id` =
    '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `key` = 'attached_mode' AND `deleted` = 0);
SELECT 'step 3: volume_admin_metadata (round 1): the rest of the scope is left for the next round' AS `guard`, (SELECT
    1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_after <=> @fixpack_scope - @fixpack_take)) AS `ok`;
SET @fixpack_budget = @fixpack_budget - @fixpack_take;

-- step 4: volumes (round 1): status and attach_status from the attachments that stay, as volume_detached
--   recomputes them — rows: volume(s) 6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60, unless its status already follows from
--   the attachments that stay
SET @fixpack_scope = (SELECT COUNT(*) FROM `volumes` WHERE `id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `deleted`
    = 0 AND (NOT `status` <=> 'available' OR NOT `attach_status` <=> 'detached') FOR UPDATE);
SET @fixpack_take = LEAST(@fixpack_scope, @fixpack_budget);
SET @fixpack_hi_4_0 = (SELECT `fixpack_ranked`.`id` FROM (SELECT `id`, ROW_NUMBER() OVER (ORDER BY `id`) AS `fixpack_n`
      FROM `volumes` WHERE `id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `deleted` = 0 AND (NOT `status` <=>
      'available' OR NOT `attach_status` <=> 'detached')) AS `fixpack_ranked` WHERE `fixpack_ranked`.`fixpack_n` =
    @fixpack_take);
SELECT 'step 4: volumes (round 1)' AS `step`, @fixpack_take AS `rows`;
SELECT CONCAT('step 4: volumes (round 1): the last row within the budget was found (or there is nothing to take', ')')
  AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_take = 0 OR NOT @fixpack_hi_4_0 IS NULL))
  AS `ok`;
SET @fixpack_rc = 0;
UPDATE `volumes`
SET `status` = 'available', `attach_status` = 'detached', `updated_at` = @fixpack_now
WHERE `id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `deleted` = 0 AND (NOT `status` <=> 'available' OR NOT
    `attach_status` <=> 'detached') AND `id` <= @fixpack_hi_4_0;
SET @fixpack_rc = @fixpack_rc + ROW_COUNT();
SELECT 'step 4: volumes (round 1): changed the rows it took' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE
    NOT (@fixpack_rc <=> @fixpack_take)) AS `ok`;
SET @fixpack_after = (SELECT COUNT(*) FROM `volumes` WHERE `id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `deleted`
    = 0 AND (NOT `status` <=> 'available' OR NOT `attach_status` <=> 'detached'));
SELECT 'step 4: volumes (round 1): the rest of the scope is left for the next round' AS `guard`, (SELECT 1 UNION ALL
    SELECT 2 FROM DUAL WHERE NOT (@fixpack_after <=> @fixpack_scope - @fixpack_take)) AS `ok`;
SET @fixpack_budget = @fixpack_budget - @fixpack_take;

SELECT 'apply round 1/2' AS `round`, 1000 - @fixpack_budget AS `rows_changed`;
COMMIT;

-- ==== round 2/2: one transaction, at most 1000 row(s) in all steps ====
START TRANSACTION;
SET @fixpack_now = UTC_TIMESTAMP();
SET @fixpack_budget = 1000;

-- step 1: volume_attachment (round 2): close the attachment as volume_detached does
--   (VolumeAttachment.delete_values); legacy specs first become the connector, as loading it does — rows: live
--   attachments of volume 6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60
SET @fixpack_scope = (SELECT COUNT(*) FROM `volume_attachment` WHERE `volume_id` =
    '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `deleted` = 0 FOR UPDATE);
SET @fixpack_take = LEAST(@fixpack_scope, @fixpack_budget);
SET @fixpack_hi_1_0 = (SELECT `fixpack_ranked`.`id` FROM (SELECT `id`, ROW_NUMBER() OVER (ORDER BY `id`) AS `fixpack_n`
      FROM `volume_attachment` WHERE `volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `deleted` = 0)
    AS `fixpack_ranked` WHERE `fixpack_ranked`.`fixpack_n` = @fixpack_take);
SELECT 'step 1: volume_attachment (round 2)' AS `step`, @fixpack_take AS `rows`;
SELECT CONCAT('step 1: volume_attachment (round 2): the last row within the budget was found (or there is nothi',
    'ng to take)') AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_take = 0 OR NOT
      @fixpack_hi_1_0 IS NULL)) AS `ok`;
SET @fixpack_rc = 0;
UPDATE `volume_attachment`
SET `volume_attachment`.`attach_status` = 'detached', `volume_attachment`.`deleted` = 1,
  `volume_attachment`.`deleted_at` = @fixpack_now, `volume_attachment`.`detach_time` = @fixpack_now,
  `volume_attachment`.`updated_at` = @fixpack_now, `volume_attachment`.`connector` = (SELECT COALESCE(CONCAT('{',
      GROUP_CONCAT(CONCAT(JSON_QUOTE(`attachment_specs`.`key`), ': ', COALESCE(JSON_QUOTE(`attachment_specs`.`value`),
      'null')) ORDER BY `attachment_specs`.`id` SEPARATOR ', '), '}'), `volume_attachment`.`connector`) FROM
    `attachment_specs` WHERE `attachment_specs`.`attachment_id` = `volume_attachment`.`id` AND
    `attachment_specs`.`deleted` = 0)
WHERE `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `volume_attachment`.`deleted` = 0
  AND `volume_attachment`.`id` <= @fixpack_hi_1_0;
SET @fixpack_rc = @fixpack_rc + ROW_COUNT();
SELECT 'step 1: volume_attachment (round 2): changed the rows it took' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM
    DUAL WHERE NOT (@fixpack_rc <=> @fixpack_take)) AS `ok`;
SET @fixpack_after = (SELECT COUNT(*) FROM `volume_attachment` WHERE `volume_id` =
    '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `deleted` = 0);
SELECT 'step 1: volume_attachment (round 2): the rest of the scope is left for the next round' AS `guard`, (SELECT 1
    UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_after <=> @fixpack_scope - @fixpack_take)) AS `ok`;
SET @fixpack_budget = @fixpack_budget - @fixpack_take;
SELECT 'step 1: volume_attachment: no row is left needing the change' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM
    DUAL WHERE NOT (@fixpack_after <=> 0)) AS `ok`;

-- step 2: attachment_specs (round 2): soft-delete the legacy connector specs, as Cinder does when it loads the
--   attachment — rows: live specs of the attachments to close (or closed with their connector)
SET @fixpack_scope = (SELECT COUNT(*) FROM `attachment_specs` WHERE `attachment_specs`.`attachment_id` IN (SELECT
      `volume_attachment`.`id` FROM `volume_attachment` WHERE `volume_attachment`.`volume_id` =
      '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND (`volume_attachment`.`deleted` = 0 OR NOT
      `volume_attachment`.`connector` IS NULL)) AND `attachment_specs`.`deleted` = 0 FOR UPDATE);
SET @fixpack_take = LEAST(@fixpack_scope, @fixpack_budget);
SET @fixpack_hi_2_0 = (SELECT `fixpack_ranked`.`id` FROM (SELECT `attachment_specs`.`id`, ROW_NUMBER() OVER (ORDER BY
      `attachment_specs`.`id`) AS `fixpack_n` FROM `attachment_specs` WHERE `attachment_specs`.`attachment_id` IN
      (SELECT `volume_attachment`.`id` FROM `volume_attachment` WHERE `volume_attachment`.`volume_id` =
      '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND (`volume_attachment`.`deleted` = 0 OR NOT
      `volume_attachment`.`connector` IS NULL)) AND `attachment_specs`.`deleted` = 0) AS `fixpack_ranked` WHERE
    `fixpack_ranked`.`fixpack_n` = @fixpack_take);
SELECT 'step 2: attachment_specs (round 2)' AS `step`, @fixpack_take AS `rows`;
SELECT CONCAT('step 2: attachment_specs (round 2): the last row within the budget was found (or there is nothin',
    'g to take)') AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_take = 0 OR NOT
      @fixpack_hi_2_0 IS NULL)) AS `ok`;
SET @fixpack_rc = 0;
-- attachment_specs has no index on the scope's columns, so safe-update mode would refuse this statement: it is
--   keyed on the target UUID (lint FX001) and its row count is guarded before and after, so safe updates are off
--   for this one statement
SET SESSION sql_safe_updates = 0;
UPDATE `attachment_specs`
SET `attachment_specs`.`deleted` = 1, `attachment_specs`.`deleted_at` = @fixpack_now
WHERE `attachment_specs`.`attachment_id` IN (SELECT `volume_attachment`.`id` FROM `volume_attachment` WHERE
    `volume_attachment`.`volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND (`volume_attachment`.`deleted` = 0 OR
      NOT `volume_attachment`.`connector` IS NULL)) AND `attachment_specs`.`deleted` = 0 AND `attachment_specs`.`id` <=
  @fixpack_hi_2_0;
SET @fixpack_rc = @fixpack_rc + ROW_COUNT();
SET SESSION sql_safe_updates = 1;
SELECT 'step 2: attachment_specs (round 2): changed the rows it took' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM
    DUAL WHERE NOT (@fixpack_rc <=> @fixpack_take)) AS `ok`;
SET @fixpack_after = (SELECT COUNT(*) FROM `attachment_specs` WHERE `attachment_specs`.`attachment_id` IN (SELECT
      `volume_attachment`.`id` FROM `volume_attachment` WHERE `volume_attachment`.`volume_id` =
      '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND (`volume_attachment`.`deleted` = 0 OR NOT
      `volume_attachment`.`connector` IS NULL)) AND `attachment_specs`.`deleted` = 0);
SELECT 'step 2: attachment_specs (round 2): the rest of the scope is left for the next round' AS `guard`, (SELECT 1
    UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_after <=> @fixpack_scope - @fixpack_take)) AS `ok`;
SET @fixpack_budget = @fixpack_budget - @fixpack_take;
SELECT 'step 2: attachment_specs: no row is left needing the change' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL
    WHERE NOT (@fixpack_after <=> 0)) AS `ok`;

-- step 3: volume_admin_metadata (round 2): forget the attach mode, as finish_detach does — rows: live
--   attached_mode admin metadata of volume(s) 6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60
SET @fixpack_scope = (SELECT COUNT(*) FROM `volume_admin_metadata` WHERE `volume_id` =
    '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `key` = 'attached_mode' AND `deleted` = 0 FOR UPDATE);
SET @fixpack_take = LEAST(@fixpack_scope, @fixpack_budget);
SET @fixpack_hi_3_0 = (SELECT `fixpack_ranked`.`id` FROM (SELECT `id`, ROW_NUMBER() OVER (ORDER BY `id`) AS `fixpack_n`
      FROM `volume_admin_metadata` WHERE `volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `key` =
      'attached_mode' AND `deleted` = 0) AS `fixpack_ranked` WHERE `fixpack_ranked`.`fixpack_n` = @fixpack_take);
SELECT 'step 3: volume_admin_metadata (round 2)' AS `step`, @fixpack_take AS `rows`;
SELECT CONCAT('step 3: volume_admin_metadata (round 2): the last row within the budget was found (or there is n',
    'othing to take)') AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_take = 0 OR NOT
      @fixpack_hi_3_0 IS NULL)) AS `ok`;
SET @fixpack_rc = 0;
UPDATE `volume_admin_metadata`
SET `deleted` = 1, `deleted_at` = @fixpack_now
WHERE `volume_id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `key` = 'attached_mode' AND `deleted` = 0 AND `id` <=
  @fixpack_hi_3_0;
SET @fixpack_rc = @fixpack_rc + ROW_COUNT();
SELECT 'step 3: volume_admin_metadata (round 2): changed the rows it took' AS `guard`, (SELECT 1 UNION ALL SELECT 2
    FROM DUAL WHERE NOT (@fixpack_rc <=> @fixpack_take)) AS `ok`;
SET @fixpack_after = (SELECT COUNT(*) FROM `volume_admin_metadata` WHERE `volume_id` =
    '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `key` = 'attached_mode' AND `deleted` = 0);
SELECT 'step 3: volume_admin_metadata (round 2): the rest of the scope is left for the next round' AS `guard`, (SELECT
    1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_after <=> @fixpack_scope - @fixpack_take)) AS `ok`;
SET @fixpack_budget = @fixpack_budget - @fixpack_take;
SELECT 'step 3: volume_admin_metadata: no row is left needing the change' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM
    DUAL WHERE NOT (@fixpack_after <=> 0)) AS `ok`;

-- step 4: volumes (round 2): status and attach_status from the attachments that stay, as volume_detached
--   recomputes them — rows: volume(s) 6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60, unless its status already follows from
--   the attachments that stay
SET @fixpack_scope = (SELECT COUNT(*) FROM `volumes` WHERE `id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `deleted`
    = 0 AND (NOT `status` <=> 'available' OR NOT `attach_status` <=> 'detached') FOR UPDATE);
SET @fixpack_take = LEAST(@fixpack_scope, @fixpack_budget);
SET @fixpack_hi_4_0 = (SELECT `fixpack_ranked`.`id` FROM (SELECT `id`, ROW_NUMBER() OVER (ORDER BY `id`) AS `fixpack_n`
      FROM `volumes` WHERE `id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `deleted` = 0 AND (NOT `status` <=>
      'available' OR NOT `attach_status` <=> 'detached')) AS `fixpack_ranked` WHERE `fixpack_ranked`.`fixpack_n` =
    @fixpack_take);
SELECT 'step 4: volumes (round 2)' AS `step`, @fixpack_take AS `rows`;
SELECT CONCAT('step 4: volumes (round 2): the last row within the budget was found (or there is nothing to take', ')')
  AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_take = 0 OR NOT @fixpack_hi_4_0 IS NULL))
  AS `ok`;
SET @fixpack_rc = 0;
UPDATE `volumes`
SET `status` = 'available', `attach_status` = 'detached', `updated_at` = @fixpack_now
WHERE `id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `deleted` = 0 AND (NOT `status` <=> 'available' OR NOT
    `attach_status` <=> 'detached') AND `id` <= @fixpack_hi_4_0;
SET @fixpack_rc = @fixpack_rc + ROW_COUNT();
SELECT 'step 4: volumes (round 2): changed the rows it took' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE
    NOT (@fixpack_rc <=> @fixpack_take)) AS `ok`;
SET @fixpack_after = (SELECT COUNT(*) FROM `volumes` WHERE `id` = '6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60' AND `deleted`
    = 0 AND (NOT `status` <=> 'available' OR NOT `attach_status` <=> 'detached'));
SELECT 'step 4: volumes (round 2): the rest of the scope is left for the next round' AS `guard`, (SELECT 1 UNION ALL
    SELECT 2 FROM DUAL WHERE NOT (@fixpack_after <=> @fixpack_scope - @fixpack_take)) AS `ok`;
SET @fixpack_budget = @fixpack_budget - @fixpack_take;
SELECT 'step 4: volumes: no row is left needing the change' AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE
    NOT (@fixpack_after <=> 0)) AS `ok`;

SELECT 'apply round 2/2' AS `round`, 1000 - @fixpack_budget AS `rows_changed`;
COMMIT;

SELECT 'apply finished: every guard held' AS `fixpack`;
