-- fixpack <version> | vm 3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57 | op soft-delete | phase apply
-- database: Nova cell database (cell1) (db:nova), release 2025.1, live generation
-- run exactly: mysql --defaults-extra-file=~/fixpack-nova.cnf --loose-sandbox --batch < sql/20-apply-nova.sql
-- (from the bundle directory) NEVER with --force or `source` at a prompt: a failed guard must stop the
-- client (the server rolls the open transaction back). A chunk commits only when all its guards held.
SET NAMES utf8mb4;
SET SESSION time_zone = '+00:00', sql_mode = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION',
  sql_safe_updates = 1, innodb_lock_wait_timeout = 10, lock_wait_timeout = 10, group_concat_max_len = 1048576;
SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ;

-- ==== is this the right database? (read-only; stops the client if not) ====
-- identity 1/2: a Nova cell database (tables only it has: compute_nodes, instances), each table touched with the
--   columns of the nova schema read at generation (a hash of its `column DATA_TYPE NULL|NOT NULL` lines); what
--   differs is printed here
SET @fixpack_check = (SELECT IF(SUM(`TABLE_NAME` IN ('compute_nodes', 'instances')) = 2, NULL,
      CONCAT('service tables here: ', COALESCE(GROUP_CONCAT(`TABLE_NAME` ORDER BY `TABLE_NAME` SEPARATOR ', '),
      'none'))) FROM `information_schema`.`TABLES` WHERE `TABLE_SCHEMA` = DATABASE() AND `TABLE_NAME` IN
    ('cell_mappings', 'compute_nodes', 'consumer_types', 'instance_mappings', 'instances', 'volume_attachment',
      'volumes'));
SET @fixpack_check = COALESCE(@fixpack_check, (SELECT NULLIF(CONCAT_WS('; ', GROUP_CONCAT(IF(CONCAT(`t`, ':',
      LEFT(SHA2(`cols`, 256), 16)) IN ('instance_metadata:df592ed40b27367e', 'instances:58d0ba3b96e0f834',
      'tags:b440368fb64c9e25'), NULL, CONCAT(`t`, ': ', `cols`)) ORDER BY `t` SEPARATOR '; '), IF(COUNT(*) = 3, NULL,
      CONCAT(COUNT(*), ' of the 3 tables are here'))), '') FROM (SELECT CAST(`TABLE_NAME` AS CHAR) AS `t`,
      GROUP_CONCAT(CONCAT_WS(' ', CAST(`COLUMN_NAME` AS CHAR), CAST(IF(`DATA_TYPE` = 'json', 'longtext', `DATA_TYPE`)
      AS CHAR), IF(`IS_NULLABLE` = 'YES', 'NULL', 'NOT NULL')) ORDER BY CAST(`COLUMN_NAME` AS BINARY) SEPARATOR ', ')
      AS `cols` FROM `information_schema`.`COLUMNS` WHERE `TABLE_SCHEMA` = DATABASE() AND `TABLE_NAME` IN
      ('instance_metadata', 'instances', 'tags') GROUP BY `TABLE_NAME`) AS `f`));
SELECT 'a Nova cell database with the columns of the nova schema read at generation' AS `expected`, @fixpack_check
  AS `found`
FROM DUAL
WHERE NOT (@fixpack_check IS NULL);
SELECT 'identity: a Nova cell database with the columns of the nova schema read at generation' AS `guard`, (SELECT 1
    UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_check IS NULL)) AS `ok`;
-- identity 2/2: instance 3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57 is here (it tells its cell from cell0 or another
--   cell)
SET @fixpack_check = (SELECT COUNT(*) FROM `instances` WHERE `uuid` = '3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57');
SELECT 'instance 3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57 in instances here' AS `expected`, CONCAT(CAST(@fixpack_check
      AS CHAR), ' row(s) in instances') AS `found`
FROM DUAL
WHERE NOT ((@fixpack_check > 0) <=> TRUE);
SELECT 'identity: instance 3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57 is in this database' AS `guard`, (SELECT 1 UNION ALL
    SELECT 2 FROM DUAL WHERE NOT ((@fixpack_check > 0) <=> TRUE)) AS `ok`;

SET @fixpack_ws_query = CONCAT('SELECT MAX(IF(n = ''wsrep_on'', v, NULL)), MAX(IF(n = ',
    '''wsrep_max_ws_rows'', v, NULL)), MAX(IF(n = ''wsrep_max_ws_size'', v, ',
    'NULL)) INTO @fixpack_ws_on, @fixpack_ws_rows, @fixpack_ws_size FROM ',
    '(SELECT LOWER(VARIABLE_NAME) AS n, VARIABLE_VALUE AS v FROM', ' ', IF((SELECT COUNT(*) FROM
      `information_schema`.`TABLES` WHERE `TABLE_SCHEMA` = 'information_schema' AND `TABLE_NAME` = 'GLOBAL_VARIABLES')
      > 0, 'information_schema.GLOBAL_VARIABLES', 'performance_schema.global_variables'), ') AS w');
PREPARE fixpack_ws_read FROM @fixpack_ws_query;
EXECUTE fixpack_ws_read;
DEALLOCATE PREPARE fixpack_ws_read;
SET @fixpack_ws_refuse = IF(UPPER(COALESCE(@fixpack_ws_on, 'OFF')) IN ('ON', '1') AND ((COALESCE(@fixpack_ws_rows, 0) >
      0 AND COALESCE(@fixpack_ws_rows, 0) < 4) OR (COALESCE(@fixpack_ws_size, 0) > 0 AND COALESCE(@fixpack_ws_size, 0)
      < 2472)), 1, 0);
SELECT CONCAT('ERROR: this apply changes up to 4 row(s) per transaction (chunk); ',
    'this Galera node has wsrep_max_ws_rows=', COALESCE(@fixpack_ws_rows, 0), ' and wsrep_max_ws_size=',
    COALESCE(@fixpack_ws_size, 0), ' (estimated write set of a chunk: ', CEILING(2472),
    ' bytes), so a chunk would fail with ERROR 1180. Nothing was changed. ',
    'Regenerate the bundle with --chunk-rows ', LEAST(COALESCE(FLOOR(0.9 * COALESCE(@fixpack_ws_size, 0) / (2472 / 4)),
      4), IF(COALESCE(@fixpack_ws_rows, 0) > 0, COALESCE(@fixpack_ws_rows, 0), 4)), ' (or fewer).') AS `fixpack`
FROM DUAL
WHERE @fixpack_ws_refuse = 1;
SELECT 'Galera write-set limits: a chunk of 4 row(s) fits (or wsrep is off)' AS `guard`, (SELECT 1 UNION ALL SELECT 2
    FROM DUAL WHERE NOT (@fixpack_ws_refuse <=> 0)) AS `ok`;
SET @fixpack_changed = 0;

-- ==== chunk 1/1: 3 step(s), 4 row(s) ====
START TRANSACTION;
SET @fixpack_chunk = NULL;
SET @fixpack_now = UTC_TIMESTAMP();

-- describe(): step 1/3 — update 2 rows of instance_metadata: soft-delete as instance_destroy does (deleted = id)
SET @fixpack_scope = (SELECT COUNT(*) FROM `instance_metadata` WHERE `instance_uuid` =
    '3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57' AND `deleted` = 0 FOR UPDATE);
SET @fixpack_before = (SELECT CONCAT(COUNT(*), ':', BIT_XOR(CAST(CONV(LEFT(SHA2(CONVERT(CONCAT_WS(',',
      QUOTE(`created_at`), QUOTE(`updated_at`), QUOTE(`id`), QUOTE(`key`), QUOTE(`value`), QUOTE(`instance_uuid`),
      QUOTE(`deleted`)) USING utf8mb4), 256), 16), 16, 10) AS UNSIGNED)), ':',
      BIT_XOR(CAST(CONV(LEFT(SHA2(CONVERT(CONCAT_WS(',', QUOTE(`deleted_at`), QUOTE(`id`)) USING utf8mb4), 256), 16),
      16, 10) AS UNSIGNED))) FROM `instance_metadata` WHERE `id` IN (1, 2) FOR UPDATE);
SET @fixpack_state = CASE WHEN @fixpack_scope = 2 AND @fixpack_before = '2:6245241401028064557:516650610259645838' THEN
  'pending' WHEN SUBSTRING_INDEX(@fixpack_before, ':', 2) = '2:9748265492673749088' THEN 'done' ELSE 'drift' END;
SET @fixpack_chunk = COALESCE(@fixpack_chunk, @fixpack_state);
SELECT 'step 1: instance_metadata' AS `step`, @fixpack_state AS `state`;
SELECT 'step 1: instance_metadata: rows are as at generation (or the step is already done)' AS `guard`, (SELECT 1 UNION
    ALL SELECT 2 FROM DUAL WHERE NOT ((@fixpack_state <=> 'pending' OR @fixpack_state <=> 'done') AND @fixpack_state
      <=> @fixpack_chunk)) AS `ok`;
UPDATE `instance_metadata`
SET `deleted` = `id`, `deleted_at` = @fixpack_now
WHERE (`id` IN (1, 2)) AND @fixpack_state = 'pending';
SET @fixpack_rc = ROW_COUNT();
SET @fixpack_after = (SELECT CONCAT(COUNT(*), ':', BIT_XOR(CAST(CONV(LEFT(SHA2(CONVERT(CONCAT_WS(',', QUOTE(`id`),
      QUOTE(`deleted`)) USING utf8mb4), 256), 16), 16, 10) AS UNSIGNED))) FROM `instance_metadata` WHERE `id` IN (1,
      2));
SELECT CONCAT('step 1: instance_metadata: changed 2 row(s) if pending, none if done; rows now match the planned',
    ' result') AS `guard`, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_rc <=> CASE WHEN @fixpack_state =
      'pending' THEN 2 ELSE 0 END AND (@fixpack_after = '2:14503516468361000138' <=> TRUE))) AS `ok`;

-- describe(): step 2/3 — delete 1 row of tags: hard-delete as instance_destroy does (table has no deleted column)
SET @fixpack_scope = (SELECT COUNT(*) FROM `tags` WHERE `resource_id` = '3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57' FOR
    UPDATE);
SET @fixpack_before = (SELECT CONCAT(COUNT(*), ':', BIT_XOR(CAST(CONV(LEFT(SHA2(CONVERT(CONCAT_WS(',',
      QUOTE(`resource_id`), QUOTE(`tag`)) USING utf8mb4), 256), 16), 16, 10) AS UNSIGNED))) FROM `tags` WHERE
    `resource_id` = '3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57' AND `tag` = 'web' FOR UPDATE);
SET @fixpack_state = CASE WHEN @fixpack_scope = 1 AND @fixpack_before = '1:18094931531039768027' THEN 'pending' WHEN
  @fixpack_before = '0:0' THEN 'done' ELSE 'drift' END;
SET @fixpack_chunk = COALESCE(@fixpack_chunk, @fixpack_state);
SELECT 'step 2: tags' AS `step`, @fixpack_state AS `state`;
SELECT 'step 2: tags: rows are as at generation (or the step is already done)' AS `guard`, (SELECT 1 UNION ALL SELECT 2
    FROM DUAL WHERE NOT ((@fixpack_state <=> 'pending' OR @fixpack_state <=> 'done') AND @fixpack_state <=>
      @fixpack_chunk)) AS `ok`;
DELETE FROM `tags`
WHERE (`resource_id` = '3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57' AND `tag` = 'web') AND @fixpack_state = 'pending';
SET @fixpack_rc = ROW_COUNT();
SET @fixpack_after = (SELECT CONCAT(COUNT(*), ':', BIT_XOR(CAST(CONV(LEFT(SHA2(CONVERT(CONCAT_WS(',',
      QUOTE(`resource_id`), QUOTE(`tag`)) USING utf8mb4), 256), 16), 16, 10) AS UNSIGNED))) FROM `tags` WHERE
    `resource_id` = '3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57' AND `tag` = 'web');
SELECT 'step 2: tags: changed 1 row(s) if pending, none if done; rows now match the planned result' AS `guard`, (SELECT
    1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_rc <=> CASE WHEN @fixpack_state = 'pending' THEN 1 ELSE 0 END
      AND (@fixpack_after = '0:0' <=> TRUE))) AS `ok`;

-- describe(): step 3/3 — update 1 row of instances: vm_state deleted, task_state NULL, power_state NOSTATE,
--   terminated_at, deleted = id
SET @fixpack_scope = (SELECT COUNT(*) FROM `instances` WHERE `uuid` = '3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57' AND
    `deleted` = 0 FOR UPDATE);
SET @fixpack_before = (SELECT CONCAT(COUNT(*), ':', BIT_XOR(CAST(CONV(LEFT(SHA2(CONVERT(CONCAT_WS(',',
      QUOTE(`created_at`), QUOTE(`id`), QUOTE(`internal_id`), QUOTE(`user_id`), QUOTE(`project_id`),
      QUOTE(`image_ref`), QUOTE(`kernel_id`), QUOTE(`ramdisk_id`), QUOTE(`launch_index`), QUOTE(`key_name`),
      QUOTE(`key_data`), QUOTE(`power_state`), QUOTE(`vm_state`), QUOTE(`memory_mb`), QUOTE(`vcpus`),
      QUOTE(`hostname`), QUOTE(`host`), QUOTE(`user_data`), QUOTE(`reservation_id`), QUOTE(`launched_at`),
      QUOTE(`display_name`), QUOTE(`display_description`), QUOTE(`availability_zone`), QUOTE(`locked`),
      QUOTE(`os_type`), QUOTE(`launched_on`), QUOTE(`instance_type_id`), QUOTE(`vm_mode`), QUOTE(`uuid`),
      QUOTE(`architecture`), QUOTE(`root_device_name`), QUOTE(`access_ip_v4`), QUOTE(`access_ip_v6`),
      QUOTE(`config_drive`), QUOTE(`task_state`), QUOTE(`default_ephemeral_device`), QUOTE(`default_swap_device`),
      QUOTE(`progress`), QUOTE(`auto_disk_config`), QUOTE(`shutdown_terminate`), QUOTE(`disable_terminate`),
      QUOTE(`root_gb`), QUOTE(`ephemeral_gb`), QUOTE(`cell_name`), QUOTE(`node`), QUOTE(`deleted`), QUOTE(`locked_by`),
      QUOTE(`cleaned`), QUOTE(`ephemeral_key_uuid`), QUOTE(`hidden`), QUOTE(`compute_id`)) USING utf8mb4), 256), 16),
      16, 10) AS UNSIGNED)), ':', BIT_XOR(CAST(CONV(LEFT(SHA2(CONVERT(CONCAT_WS(',', QUOTE(`updated_at`),
      QUOTE(`deleted_at`), QUOTE(`id`), QUOTE(`terminated_at`)) USING utf8mb4), 256), 16), 16, 10) AS UNSIGNED))) FROM
    `instances` WHERE `id` IN (7) FOR UPDATE);
SET @fixpack_state = CASE WHEN @fixpack_scope = 1 AND @fixpack_before = '1:12785522361682799761:13226483624867253826'
  THEN 'pending' WHEN SUBSTRING_INDEX(@fixpack_before, ':', 2) = '1:16308547248366731045' THEN 'done' ELSE 'drift' END;
SET @fixpack_chunk = COALESCE(@fixpack_chunk, @fixpack_state);
SELECT 'step 3: instances' AS `step`, @fixpack_state AS `state`;
SELECT 'step 3: instances: rows are as at generation (or the step is already done)' AS `guard`, (SELECT 1 UNION ALL
    SELECT 2 FROM DUAL WHERE NOT ((@fixpack_state <=> 'pending' OR @fixpack_state <=> 'done') AND @fixpack_state <=>
      @fixpack_chunk)) AS `ok`;
UPDATE `instances`
SET `vm_state` = 'deleted', `task_state` = NULL, `power_state` = 0, `terminated_at` = @fixpack_now, `updated_at` =
  @fixpack_now, `deleted` = `id`, `deleted_at` = @fixpack_now
WHERE (`id` IN (7)) AND @fixpack_state = 'pending';
SET @fixpack_rc = ROW_COUNT();
SET @fixpack_after = (SELECT CONCAT(COUNT(*), ':', BIT_XOR(CAST(CONV(LEFT(SHA2(CONVERT(CONCAT_WS(',', QUOTE(`id`),
      QUOTE(`power_state`), QUOTE(`vm_state`), QUOTE(`task_state`), QUOTE(`deleted`)) USING utf8mb4), 256), 16), 16,
      10) AS UNSIGNED))) FROM `instances` WHERE `id` IN (7));
SELECT 'step 3: instances: changed 1 row(s) if pending, none if done; rows now match the planned result' AS `guard`,
  (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE NOT (@fixpack_rc <=> CASE WHEN @fixpack_state = 'pending' THEN 1 ELSE 0
      END AND (@fixpack_after = '1:1779030925613329804' <=> TRUE))) AS `ok`;

SELECT 'apply chunk 1/1' AS `chunk`, CASE WHEN @fixpack_chunk = 'pending' THEN 'applied' ELSE
  'already done; nothing changed' END AS `result`;
SET @fixpack_changed = @fixpack_changed + IF(@fixpack_chunk = 'pending', 1, 0);
COMMIT;

SELECT 'apply finished: every guard held' AS `fixpack`;
