-- A version-2 store made by starshell before the name index (2026-11-30):
-- 3 workflows, 9 fireworks; tests/test_sqlite_names.py migrates it.
BEGIN TRANSACTION;
CREATE TABLE counters (name TEXT PRIMARY KEY, last INTEGER NOT NULL);
INSERT INTO "counters" VALUES('fw',9);
INSERT INTO "counters" VALUES('wf',3);
CREATE TABLE fireworks (
    fw_id INTEGER PRIMARY KEY, wf_id INTEGER NOT NULL, name TEXT, state TEXT NOT NULL,
    priority NUMERIC NOT NULL DEFAULT 0, category TEXT, fworker TEXT,
    waiting_on INTEGER NOT NULL DEFAULT 0, current_launch INTEGER, not_before TEXT,
    created_on TEXT, updated_on TEXT, doc TEXT NOT NULL);
INSERT INTO "fireworks" VALUES(1,1,'relax-1','READY',0,NULL,NULL,0,NULL,NULL,'2026-11-30T01:04:41.325686','2026-11-30T01:04:41.325686','{"spec":{"_tasks":[{"_fw_name":"PyTask","func":"math.floor","args":[1]}]}}');
INSERT INTO "fireworks" VALUES(2,1,'Relax 2','WAITING',0,NULL,NULL,1,NULL,NULL,'2026-11-30T01:04:41.325686','2026-11-30T01:04:41.325686','{"spec":{"_tasks":[{"_fw_name":"PyTask","func":"math.floor","args":[1]}]}}');
INSERT INTO "fireworks" VALUES(3,1,'static','WAITING',0,NULL,NULL,1,NULL,NULL,'2026-11-30T01:04:41.325686','2026-11-30T01:04:41.325686','{"spec":{"_tasks":[{"_fw_name":"PyTask","func":"math.floor","args":[1]}]}}');
INSERT INTO "fireworks" VALUES(4,2,'RÉLAX-3','READY',0,NULL,NULL,0,NULL,NULL,'2026-11-30T01:04:41.326403','2026-11-30T01:04:41.326403','{"spec":{"_tasks":[{"_fw_name":"PyTask","func":"math.floor","args":[1]}]}}');
INSERT INTO "fireworks" VALUES(5,2,'phonon ſtatic','WAITING',0,NULL,NULL,1,NULL,NULL,'2026-11-30T01:04:41.326403','2026-11-30T01:04:41.326403','{"spec":{"_tasks":[{"_fw_name":"PyTask","func":"math.floor","args":[1]}]}}');
INSERT INTO "fireworks" VALUES(6,2,'ΣΙΣΥΦΟΣ','WAITING',0,NULL,NULL,1,NULL,NULL,'2026-11-30T01:04:41.326403','2026-11-30T01:04:41.326403','{"spec":{"_tasks":[{"_fw_name":"PyTask","func":"math.floor","args":[1]}]}}');
INSERT INTO "fireworks" VALUES(7,3,'band','READY',0,NULL,NULL,0,NULL,NULL,'2026-11-30T01:04:41.326870','2026-11-30T01:04:41.326870','{"spec":{"_tasks":[{"_fw_name":"PyTask","func":"math.floor","args":[1]}]}}');
INSERT INTO "fireworks" VALUES(8,3,'nscf-RELAX','WAITING',0,NULL,NULL,1,NULL,NULL,'2026-11-30T01:04:41.326870','2026-11-30T01:04:41.326870','{"spec":{"_tasks":[{"_fw_name":"PyTask","func":"math.floor","args":[1]}]}}');
INSERT INTO "fireworks" VALUES(9,3,'dos','WAITING',0,NULL,NULL,1,NULL,NULL,'2026-11-30T01:04:41.326870','2026-11-30T01:04:41.326870','{"spec":{"_tasks":[{"_fw_name":"PyTask","func":"math.floor","args":[1]}]}}');
CREATE TABLE launches (
    launch_id INTEGER PRIMARY KEY, fw_id INTEGER NOT NULL, state TEXT, last_ping TEXT,
    reservation_id TEXT, host TEXT, launch_dir TEXT, time_start TEXT, time_end TEXT,
    doc TEXT NOT NULL);
CREATE TABLE links (
    parent INTEGER NOT NULL, child INTEGER NOT NULL, PRIMARY KEY (parent, child));
INSERT INTO "links" VALUES(1,2);
INSERT INTO "links" VALUES(2,3);
INSERT INTO "links" VALUES(4,5);
INSERT INTO "links" VALUES(5,6);
INSERT INTO "links" VALUES(7,8);
INSERT INTO "links" VALUES(8,9);
CREATE TABLE workflows (
    wf_id INTEGER PRIMARY KEY, name TEXT, created_on TEXT, updated_on TEXT,
    doc TEXT NOT NULL);
INSERT INTO "workflows" VALUES(1,'mp-149 relax','2026-11-30T01:04:41.325686','2026-11-30T01:04:41.325686','{"metadata":{}}');
INSERT INTO "workflows" VALUES(2,'Ünïcode workflow','2026-11-30T01:04:41.326403','2026-11-30T01:04:41.326403','{"metadata":{}}');
INSERT INTO "workflows" VALUES(3,'band structure','2026-11-30T01:04:41.326870','2026-11-30T01:04:41.326870','{"metadata":{}}');
CREATE INDEX fireworks_claim ON fireworks (state, priority DESC, fw_id);
CREATE INDEX fireworks_wf ON fireworks (wf_id, state);
CREATE INDEX fireworks_name ON fireworks (name);
CREATE INDEX links_child ON links (child);
CREATE INDEX launches_fw ON launches (fw_id);
CREATE INDEX launches_state ON launches (state, last_ping);
CREATE INDEX launches_reservation ON launches (reservation_id);
CREATE INDEX workflows_name ON workflows (name);
COMMIT;
PRAGMA user_version = 2;
