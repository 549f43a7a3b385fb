// The real App, mounted over the in-memory FakeBackend; `?scenario=` picks the state.
import { mount } from "svelte";
import "../src/app.css";
import App from "../src/App.svelte";
import { FakeBackend, type Scenario } from "../src/lib/fake-backend";

const scenario = (new URLSearchParams(location.search).get("scenario") ?? "signed-out") as Scenario;
const target = document.getElementById("app");
if (!target) throw new Error("no #app element");
const backend = new FakeBackend(scenario);
// The tests play the live loop through this handle.
(window as unknown as { fakeBackend: FakeBackend }).fakeBackend = backend;
mount(App, { target, props: { backend } });
