// The real App, mounted over the in-memory FakeBackend; `?scenario=` picks the state.
import { mount } from "svelte";
import "../src/app.css";
import App from "../src/App.svelte";
import { FakeBackend, type Scenario } from "../src/lib/fake-backend";

const scenario = (new URLSearchParams(location.search).get("scenario") ?? "signed-out") as Scenario;
const target = document.getElementById("app");
if (!target) throw new Error("no #app element");
mount(App, { target, props: { backend: new FakeBackend(scenario) } });
