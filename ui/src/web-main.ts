// The web surface's entry (web.html): the privacy area in a browser, over the service's
// HTTP API and its cookie session. Nothing is kept in browser storage.
import { mount } from "svelte";
import "./app.css";
import WebApp from "./WebApp.svelte";
import { WebBackend } from "./lib/web-backend";

/** Who to tell when an answer says the session is gone. */
const listeners: (() => void)[] = [];
const sessionEnded = { subscribe: (f: () => void) => void listeners.push(f) };

const target = document.getElementById("app");
if (!target) throw new Error("no #app element");
const backend = new WebBackend({ onSessionEnded: () => listeners.forEach((f) => f()) });
mount(WebApp, { target, props: { backend, sessionEnded } });
