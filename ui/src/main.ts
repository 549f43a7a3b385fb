import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";
import { TauriBackend } from "./lib/backend";

const target = document.getElementById("app");
if (!target) throw new Error("no #app element");
mount(App, { target, props: { backend: new TauriBackend() } });
