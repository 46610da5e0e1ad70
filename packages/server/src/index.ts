export { PonyServer } from "./server";
export { loadSettings, type ServerSettings } from "./settings";
export { main as serverMain } from "./main";
export { ManualClock } from "./runtime/clock";
