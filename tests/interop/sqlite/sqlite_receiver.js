// A GMetri webhook receiver as many teams write it: Express (express.json(), its limit
// raised for long values) writing to SQLite, with the defects that every request still
// answers 200 to:
//   - values go through JSON.parse, which rounds integers above 2^53;
//   - a string value is cut to 255 characters (a VARCHAR(255) habit);
//   - rule firings have a dedup key (identifier, cid, timestamp): a second identical firing
//     is dropped by INSERT OR IGNORE;
//   - sessions.created_at is a TEXT column: the number comes back a string.
// Usage: node sqlite_receiver.js DB_FILE   (prints the port; GET /export?sql=... runs one
// of docs/verify.md's export queries and answers its rows as NDJSON).
const express = require('express');
const Database = require('better-sqlite3');

const db = new Database(process.argv[2]);
db.exec(`
  CREATE TABLE IF NOT EXISTS variables (identifier TEXT, name TEXT, value TEXT);
  CREATE TABLE IF NOT EXISTS rules (identifier TEXT, cid INTEGER, cname TEXT, scene_name TEXT,
                                    ts INTEGER, UNIQUE (identifier, cid, ts));
  CREATE TABLE IF NOT EXISTS sessions (uuid TEXT PRIMARY KEY, identifier TEXT, browser TEXT,
                                       platform TEXT, device_id TEXT, created_at TEXT,
                                       modified_at INTEGER);`);
const putVariable = db.prepare('INSERT INTO variables VALUES (?, ?, ?)');
const putRule = db.prepare('INSERT OR IGNORE INTO rules VALUES (?, ?, ?, ?, ?)');
const putSession = db.prepare('INSERT OR REPLACE INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?)');
const key = (id) => (typeof id === 'string' ? id : JSON.stringify(id));

const app = express();
app.use(express.json({limit: '10mb'}));
app.post('/webhook', (req, res) => {
  const {type, data} = req.body;
  db.transaction(() => {
    for (const row of data.rows) {
      if (type === 'variables') {
        for (const [name, value] of Object.entries(row.variables)) {
          const kept = typeof value === 'string' ? value.slice(0, 255) : value;
          putVariable.run(key(row.identifier), name, JSON.stringify(kept));
        }
      } else if (type === 'rules') {
        for (const f of row.rules)
          putRule.run(key(row.identifier), f.cid, f.cname, f.scene_name, f.timestamp);
      } else if (type === 'session') {
        const s = row.session;
        putSession.run(
            String(s.uuid), key(row.identifier), s.browser, s.platform, String(s.device_id),
            String(s.created_at), s.modified_at);
      }
    }
  })();
  res.sendStatus(200);
});
app.get('/export', (req, res) => {
  const rows = db.prepare(req.query.sql).raw().all();
  res.type('application/x-ndjson').send(rows.map((r) => r[0] + '\n').join(''));
});

const server = app.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
