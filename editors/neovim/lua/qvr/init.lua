-- QVR for Neovim (0.7+): starts the qvr-lsp language server for qvr buffers (through
-- nvim-lspconfig when it is installed, else with vim.lsp.start_client), registers the
-- tree-sitter parser and queries from grammar/, and implements :QvrRunSvi / :QvrCancel & co.
-- on top of the server's workspace/executeCommand, echoing $/progress reports as they come.
--
--   require("qvr").setup({ settings = { qvr = { run = { steps = 100 } } } })
local contract = require("qvr.contract") -- generated: the names and defaults shared with qvr-lsp
local program = require("qvr.program")
local treesitter = require("qvr.treesitter")

local M = {}

local RUN_COMMANDS = contract.run_commands
local KIND_TITLES = contract.kind_titles
local INSTALL_HINT = "install it with `pip install -e <path to your qvr-tools checkout>`, or pass cmd = {...} to require('qvr').setup()"

-- This file is <repo>/editors/neovim/lua/qvr/init.lua; the grammar is <repo>/grammar.
local this_file = debug.getinfo(1, "S").source:sub(2)
local repo_root = vim.fn.fnamemodify(this_file, ":p:h:h:h:h:h")

M.defaults = {
  cmd = nil, -- default: <root>/.venv/bin/qvr-lsp, <root>/venv/bin/qvr-lsp, else qvr-lsp on PATH
  root_markers = { ".git", "pyproject.toml", ".venv" },
  -- unset settings (steps among them) are the server's defaults, which are `qvr run`'s
  settings = { qvr = { run = { enabled = contract.run_setting_defaults.enabled } } },
  grammar_dir = repo_root .. "/grammar",
  parser_dir = vim.fn.stdpath("data") .. "/qvr",
  cc = "cc",
  treesitter = true, -- build/register the parser and highlight qvr buffers
  lspconfig = true, -- register the server with nvim-lspconfig when it is installed
  on_attach = nil,
  capabilities = nil,
}

M.config = vim.deepcopy(M.defaults)
M.progress_log = {} -- every progress report echoed, for :messages and tests
M.last_result = nil -- the latest qvr/runFinished payload
local clients_by_root = {}
local progress_titles = {}

local function echo(text, highlight, history)
  vim.api.nvim_echo({ { text, highlight or "None" } }, history ~= false, {})
end

local function root_dir(bufnr)
  local file = vim.api.nvim_buf_get_name(bufnr)
  local dir = file ~= "" and vim.fn.fnamemodify(file, ":p:h") or vim.fn.getcwd()
  for _, marker in ipairs(M.config.root_markers) do
    local found = vim.fn.finddir(marker, dir .. ";")
    if found == "" then
      found = vim.fn.findfile(marker, dir .. ";")
    end
    if found ~= "" then
      -- The marker's parent; `:p` gives directories a trailing slash, drop it first.
      local marker_path = (vim.fn.fnamemodify(found, ":p"):gsub("/$", ""))
      return vim.fn.fnamemodify(marker_path, ":h")
    end
  end
  return dir
end

--- The server command for a workspace root: the configured one, a venv in the root, or PATH.
local function server_cmd(root)
  if M.config.cmd then
    return M.config.cmd
  end
  for _, venv in ipairs({ ".venv", "venv" }) do
    local candidate = root .. "/" .. venv .. "/bin/qvr-lsp"
    if vim.fn.executable(candidate) == 1 then
      return { candidate }
    end
  end
  return { "qvr-lsp" }
end

local function percent(value)
  return value.percentage and string.format(" (%d%%)", value.percentage) or ""
end

--- `$/progress`: keep Neovim's own bookkeeping, then echo the report (0.7 shows nothing itself).
local function progress_handler(err, result, ctx, config)
  local default = vim.lsp.handlers["$/progress"]
  if default then
    default(err, result, ctx, config)
  end
  local value = result and result.value
  if type(value) ~= "table" or not value.kind then
    return
  end
  local token = tostring(result.token)
  if value.kind == "begin" then
    progress_titles[token] = value.title
  end
  local title = progress_titles[token] or "QVR"
  local text = string.format("[qvr] %s%s%s", title, value.message and (": " .. value.message) or "", percent(value))
  if value.kind == "end" then
    progress_titles[token] = nil
    text = text .. " — done"
  end
  table.insert(M.progress_log, { kind = value.kind, title = title, message = value.message, percentage = value.percentage })
  -- Intermediate reports replace each other on the command line; begin and end stay in :messages.
  echo(text, nil, value.kind ~= "report")
end

-- What a run reports at every step or draw: SVI its loss (the negative ELBO), Sample and NUTS
-- the log joint of the draw. qvr/runFinished names its fields after it (`metric`: "loss" or
-- "log_joint"; `final_<metric>`, `losses`/`log_joints`, `<metric>_curve_path`).
local METRIC_TITLES = { loss = "loss", log_joint = "log joint" }
local METRIC_SERIES = { loss = "losses", log_joint = "log_joints" }
local UNITS = { svi = "steps", sample = "draws", nuts = "iterations" }

local function metric_of(result)
  return result.metric == "log_joint" and "log_joint" or "loss"
end

--- One line for a finished run: "SVI on lm finished: final loss 12.3 in 4.1 s on cpu" ("final
--- log joint -8.2" for Sample and NUTS).
function M.describe(result)
  local what = string.format("%s on %s", KIND_TITLES[result.kind] or tostring(result.kind), tostring(result.entry))
  if not result.ok then
    return what .. " failed" .. (type(result.message) == "string" and (": " .. result.message) or "")
  end
  local text = what .. " finished"
  local metric = metric_of(result)
  local final = result["final_" .. metric]
  if type(final) == "number" then
    text = text .. string.format(": final %s %.4g", METRIC_TITLES[metric], final)
  end
  if type(result.elapsed) == "number" then
    text = text .. string.format(" in %.1f s", result.elapsed)
  end
  if type(result.device) == "string" then
    text = text .. " on " .. result.device
  end
  return text
end

local function run_finished_handler(_, result)
  M.last_result = result
  echo("[qvr] " .. M.describe(result) .. " (:QvrShowResult)", result.ok and "None" or "ErrorMsg")
end

M.handlers = {
  ["$/progress"] = progress_handler,
  [contract.run_finished_notification] = run_finished_handler,
}

--- Client capabilities: the configured ones (or Neovim's defaults), plus
--- workspace.configuration, which Neovim 0.7 answers but does not announce; without it the
--- server would never ask for qvr.run settings.
local function capabilities()
  local caps = M.config.capabilities or vim.lsp.protocol.make_client_capabilities()
  return vim.tbl_deep_extend("force", caps, { workspace = { configuration = true } })
end

local function client_config(root)
  return {
    name = "qvr",
    cmd = server_cmd(root),
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
    settings = M.config.settings,
    -- runFinishedNotification: the plugin echoes qvr/runFinished itself (no duplicate message).
    init_options = vim.tbl_extend("force", M.config.settings.qvr or {}, { [contract.run_finished_option] = true }),
    handlers = M.handlers,
    capabilities = capabilities(),
    on_attach = M.config.on_attach,
  }
end

--- Attach the qvr client for the buffer's workspace root, starting it if needed.
function M.attach(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local root = root_dir(bufnr)
  local id = clients_by_root[root]
  local client = id and vim.lsp.get_client_by_id(id)
  if not client or client.is_stopped() then
    local config = client_config(root)
    if vim.fn.executable(config.cmd[1]) ~= 1 then
      echo(string.format("[qvr] language server %s not found: %s", config.cmd[1], INSTALL_HINT), "ErrorMsg")
      return nil
    end
    id = vim.lsp.start_client(config)
    if not id then
      echo("[qvr] the language server failed to start", "ErrorMsg")
      return nil
    end
    clients_by_root[root] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
  return id
end

local function on_filetype(args)
  local bufnr = args and args.buf or vim.api.nvim_get_current_buf()
  if M.config.treesitter and M._parser_ready then
    local ok, err = pcall(treesitter.highlight, bufnr)
    if not ok then
      echo("[qvr] tree-sitter highlighting failed: " .. tostring(err), "WarningMsg")
    end
  end
  if not M._use_lspconfig then
    M.attach(bufnr)
  end
end

--- Register the server with nvim-lspconfig (it then starts and attaches the client itself).
local function setup_lspconfig()
  local ok_configs, configs = pcall(require, "lspconfig.configs")
  local ok, lspconfig = pcall(require, "lspconfig")
  if not (ok and ok_configs) then
    return false
  end
  if not configs.qvr then
    configs.qvr = {
      default_config = {
        cmd = M.config.cmd or { "qvr-lsp" },
        filetypes = { "qvr" },
        root_dir = lspconfig.util.root_pattern(unpack(M.config.root_markers)),
        settings = M.config.settings,
        init_options = vim.tbl_extend("force", M.config.settings.qvr or {}, { [contract.run_finished_option] = true }),
      },
      docs = { description = "qvr-lsp, the QVR language server (pip install -e <qvr-tools checkout>)" },
    }
  end
  lspconfig.qvr.setup({ handlers = M.handlers, on_attach = M.config.on_attach, capabilities = capabilities() })
  return true
end

function M.setup(opts)
  M.config = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
  if M.config.treesitter then
    local library, err = treesitter.build(M.config.grammar_dir, M.config.parser_dir, M.config.cc)
    local ok = library ~= nil
    if ok then
      ok, err = treesitter.register(library, M.config.grammar_dir)
    end
    M._parser_ready = ok
    if not ok then
      echo("[qvr] " .. err, "WarningMsg")
    end
  end
  M._use_lspconfig = M.config.lspconfig and setup_lspconfig()
  local group = vim.api.nvim_create_augroup("qvr", { clear = true })
  vim.api.nvim_create_autocmd("FileType", { group = group, pattern = "qvr", callback = on_filetype })
  -- Buffers that were already open when setup() ran.
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].filetype == "qvr" then
      on_filetype({ buf = bufnr })
    end
  end
end

--- Change settings while running, e.g. update_settings({ qvr = { run = { steps = 50 } } }):
--- every qvr client answers workspace/configuration with them and is sent
--- workspace/didChangeConfiguration.
function M.update_settings(settings)
  M.config.settings = vim.tbl_deep_extend("force", M.config.settings, settings)
  for _, client in pairs(vim.lsp.get_active_clients()) do
    if client.name == "qvr" then
      client.config.settings = vim.tbl_deep_extend("force", client.config.settings or {}, settings)
      client.notify("workspace/didChangeConfiguration", { settings = client.config.settings })
    end
  end
end

--- The qvr client attached to a buffer, or nil with a message.
local function client_for(bufnr)
  for _, client in pairs(vim.lsp.buf_get_clients(bufnr)) do
    if client.name == "qvr" then
      return client
    end
  end
  echo("[qvr] no QVR language server attached to this buffer", "ErrorMsg")
  return nil
end

local function execute(bufnr, command, arguments, on_result)
  local client = client_for(bufnr)
  if not client then
    return false
  end
  if command:match("^qvr%.run%.") and arguments then
    echo(string.format("[qvr] %s on %s: starting", KIND_TITLES[command:sub(9)] or command, arguments[1].entry))
  end
  -- No `arguments` key at all for "no arguments": an empty Lua table would encode as {}.
  local params = { command = command, arguments = arguments }
  client.request("workspace/executeCommand", params, function(err, result)
    if err then
      echo(string.format("[qvr] %s failed: %s", command, err.message or vim.inspect(err)), "ErrorMsg")
    elseif on_result then
      on_result(result)
    end
  end, bufnr)
  return true
end

--- :QvrRunSvi / :QvrRunSample / :QvrRunNuts — run the program under the cursor.
function M.run(kind)
  local bufnr = vim.api.nvim_get_current_buf()
  local entry, why = program.at_cursor(0)
  if not entry then
    echo("[qvr] " .. why, "WarningMsg")
    return false
  end
  return execute(bufnr, RUN_COMMANDS[kind], { { uri = vim.uri_from_bufnr(bufnr), entry = entry } })
end

--- :QvrCancel — stop every run in progress.
function M.cancel()
  return execute(vim.api.nvim_get_current_buf(), contract.cancel_command, nil, function(result)
    local n = type(result) == "table" and type(result.cancelled) == "table" and #result.cancelled or 0
    echo(n == 0 and "[qvr] no run in progress" or string.format("[qvr] cancelled %d run%s", n, n == 1 and "" or "s"))
  end)
end

--- :QvrMigrate — rewrite the buffer's classic / 0.11 forms to the current syntax.
function M.migrate()
  local bufnr = vim.api.nvim_get_current_buf()
  return execute(bufnr, contract.migrate_command, { { uri = vim.uri_from_bufnr(bufnr) } })
end

local SPARK = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" }

--- A one-line sparkline of a run's values (its losses or log joints).
function M.sparkline(values)
  if #values == 0 then
    return ""
  end
  local lo, hi = math.huge, -math.huge
  for _, v in ipairs(values) do
    lo, hi = math.min(lo, v), math.max(hi, v)
  end
  local out = {}
  for _, v in ipairs(values) do
    local level = hi > lo and math.floor((v - lo) / (hi - lo) * (#SPARK - 1) + 0.5) + 1 or 1
    table.insert(out, SPARK[level])
  end
  return table.concat(out)
end

--- :QvrShowResult — the last run's summary in a scratch split.
function M.show_result()
  local r = M.last_result
  if not r then
    echo("[qvr] no run has finished yet")
    return
  end
  local lines = { M.describe(r), "" }
  local metric = metric_of(r)
  local values = type(r[METRIC_SERIES[metric]]) == "table" and r[METRIC_SERIES[metric]] or {}
  if #values > 0 then
    local title = METRIC_TITLES[metric]
    local pad = string.rep(" ", #title + 2)
    table.insert(lines, title .. "  " .. M.sparkline(values))
    table.insert(lines, string.format("%s%d %s, %.4g → %.4g", pad, #values, UNITS[r.kind] or "steps",
      values[1], values[#values]))
  end
  if type(r[metric .. "_curve_path"]) == "string" then
    table.insert(lines, METRIC_TITLES[metric] .. " curve path: " .. r[metric .. "_curve_path"])
  end
  if type(r.summary_path) == "string" then
    table.insert(lines, "summary path: " .. r.summary_path)
  end
  if type(r.posterior) == "table" and next(r.posterior) then
    table.insert(lines, "")
    table.insert(lines, "posterior (mean ± std, first values)")
    local sites = vim.tbl_keys(r.posterior)
    table.sort(sites)
    for _, site in ipairs(sites) do
      local s = r.posterior[site]
      local mean, std = vim.tbl_flatten({ s.mean or {} }), vim.tbl_flatten({ s.std or {} })
      local parts = {}
      for i = 1, math.min(#mean, 4) do
        table.insert(parts, string.format("%.3g ± %.3g", mean[i], std[i] or 0))
      end
      table.insert(lines, string.format("  %-16s %s%s", site, table.concat(parts, ", "), #mean > 4 and ", …" or ""))
    end
  end
  -- a result still shown from before gives way (its name would clash with the new one)
  for _, old in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_get_name(old) == "qvr://result" then
      vim.api.nvim_buf_delete(old, { force = true })
    end
  end
  vim.cmd("botright new")
  local buf = vim.api.nvim_get_current_buf()
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].modifiable = false
  vim.api.nvim_buf_set_name(buf, "qvr://result")
  return lines
end

return M
