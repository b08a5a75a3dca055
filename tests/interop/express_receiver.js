// A GMetri webhook receiver as many teams write it: Express, express.json() with its
// defaults (100 kB body limit, JSON.parse). It remembers what JSON.parse made of the
// big-integer edge case, so the test can show the rounding. /stall-webhook stores the
// rows and then never answers: a store that commits and then stalls past the timeout.
const express = require('express');

const app = express();
const bigInts = [];
let rows = 0;
let stalledRows = 0;

app.use(express.json());  // the defaults: limit '100kb'
app.post('/stall-webhook', (req, res) => {
  stalledRows += req.body.data.rows.length;  // stored; the answer never comes
});
app.post('*', (req, res) => {
  for (const row of req.body.data.rows) {
    rows += 1;
    if (row.variables && 'bigInt' in row.variables) {
      // What the application sees after JSON.parse, re-serialised as it would store it.
      bigInts.push(JSON.stringify(row.variables.bigInt));
    }
  }
  res.sendStatus(200);
});
app.get('/seen', (req, res) => res.json({ rows, bigInts, stalledRows }));

const server = app.listen(0, '127.0.0.1', () => {
  console.log(server.address().port);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
