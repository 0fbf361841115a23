// The ALVH rulebook extension: the TextMate grammar does the colours (package.json), and
// `alvh lsp` does the rest (diagnostics, hover, completion, definition, formatting).
// Plain CommonJS, no build step: `npm install` in this folder, then "Install from VSIX"
// after `npx @vscode/vsce package`, or F5 from this folder (docs/editors.md).
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("alvh");
  const serverOptions = {
    command: config.get("server.command", "alvh"),
    args: ["lsp"],
  };
  const clientOptions = {
    documentSelector: [
      { scheme: "file", language: "alvh" },
      { scheme: "untitled", language: "alvh" },
    ],
    initializationOptions: { debounce: config.get("server.debounce", 0.05) },
    // a saved or changed library re-checks the open books that include it
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.alvh") },
  };
  client = new LanguageClient("alvh", "ALVH rulebooks", serverOptions, clientOptions);
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
