// Loaded with `node --import` into a server under test: its clock reads CLOCK_OFFSET_MS off the machine's.
const offset = Number(process.env.CLOCK_OFFSET_MS ?? 0);
const machineNow = Date.now;
Date.now = () => machineNow() + offset;
