-- Drives real Neovim (0.7+) headless against qvr-lsp with the editors/neovim plugin, and writes
-- what it observed to a JSON file for tests/editors/test_neovim.py. Every wait is bounded.
--
-- Environment: QVR_NVIM_PLUGIN (editors/neovim), QVR_NVIM_FILE (a .qvr file to open),
-- QVR_NVIM_OUT (JSON output), QVR_NVIM_CMD (JSON array: server command), QVR_NVIM_PARSER_DIR,
-- QVR_NVIM_GRAMMAR (optional; default: the plugin's own repository's grammar/), QVR_NVIM_STEPS (SVI steps), QVR_NVIM_TIMEOUT_MS (run timeout).
local env = vim.env
local out = { steps = {} }
local TIMEOUT = tonumber(env.QVR_NVIM_TIMEOUT_MS or "120000")

local function step(name)
  table.insert(out.steps, name)
end

local function write_out()
  local file = assert(io.open(env.QVR_NVIM_OUT, "w"))
  file:write(vim.fn.json_encode(out))
  file:close()
end

--- 0-based (row, col) of the `nth` occurrence of `needle` (plain text) in the buffer.
local function find(bufnr, needle, nth)
  nth = nth or 1
  for row, line in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    local start = 1
    while true do
      local col = line:find(needle, start, true)
      if not col then
        break
      end
      nth = nth - 1
      if nth == 0 then
        return row - 1, col - 1
      end
      start = col + 1
    end
  end
  error("not in buffer: " .. needle)
end

local function request(bufnr, method, row, col)
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = { line = row, character = col },
  }
  local responses = vim.lsp.buf_request_sync(bufnr, method, params, 15000) or {}
  for _, response in pairs(responses) do
    if response.err then
      return { error = response.err.message }
    end
    return response.result
  end
  return { error = "no response" }
end

--- Highlight capture names of the nodes covering (row, col).
local function captures_at(bufnr, row, col)
  local parser = vim.treesitter.get_parser(bufnr, "qvr")
  local tree = parser:parse()[1]
  local get_query = vim.treesitter.query.get or vim.treesitter.get_query
  local query = get_query("qvr", "highlights")
  local names = {}
  for id, node in query:iter_captures(tree:root(), bufnr, row, row + 1) do
    local r1, c1, r2, c2 = node:range()
    local after_start = r1 < row or (r1 == row and c1 <= col)
    local before_end = r2 > row or (r2 == row and c2 > col)
    if after_start and before_end then
      table.insert(names, query.captures[id])
    end
  end
  return names
end

local function main()
  vim.opt.runtimepath:prepend(env.QVR_NVIM_PLUGIN)
  vim.cmd("filetype plugin on")
  vim.cmd("runtime! plugin/qvr.vim")
  local qvr = require("qvr")
  qvr.setup({
    cmd = vim.fn.json_decode(env.QVR_NVIM_CMD),
    parser_dir = env.QVR_NVIM_PARSER_DIR,
    grammar_dir = env.QVR_NVIM_GRAMMAR,
    settings = { qvr = { run = { enabled = true, steps = tonumber(env.QVR_NVIM_STEPS or "5"), device = "cpu" } } },
  })
  out.nvim_version = tostring(vim.version().major) .. "." .. tostring(vim.version().minor)
  out.parser_ready = qvr._parser_ready == true
  step("setup")

  vim.cmd("edit " .. vim.fn.fnameescape(env.QVR_NVIM_FILE))
  local bufnr = vim.api.nvim_get_current_buf()
  out.filetype = vim.bo[bufnr].filetype
  out.commentstring = vim.bo[bufnr].commentstring

  -- Tree-sitter: highlighter running, known tokens captured as the spec recommends.
  out.highlighter_active = vim.treesitter.highlighter.active[bufnr] ~= nil
  if out.parser_ready then
    out.captures = {}
    for _, probe in ipairs({
      { "object", "object Token" },
      { "Normal", "~ Normal" },
      { "256", "256" },
      { "scan", "scan(cell)" },
      { "return", "return next_token" },
    }) do
      local row, col = find(bufnr, probe[2])
      local offset = probe[2]:find(probe[1], 1, true) - 1
      out.captures[probe[1]] = captures_at(bufnr, row, col + offset)
    end
    local root = vim.treesitter.get_parser(bufnr, "qvr"):parse()[1]:root()
    out.tree_has_error = root:has_error()
  end
  step("treesitter")

  -- The language server: attached and initialised, diagnostics published.
  local attached = vim.wait(30000, function()
    for _, client in pairs(vim.lsp.buf_get_clients(bufnr)) do
      if client.name == "qvr" and client.initialized then
        return true
      end
    end
    return false
  end, 50)
  out.attached = attached
  if not attached then
    return
  end
  step("attached")
  out.got_diagnostics = vim.wait(30000, function()
    return #vim.diagnostic.get(bufnr) > 0
  end, 50)
  out.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(out.diagnostics, { code = d.code, severity = d.severity, lnum = d.lnum, col = d.col, message = d.message })
  end
  step("diagnostics")

  -- Hover on `cell` in `scan(cell)`, definition of `backbone` from its use in the program.
  local row, col = find(bufnr, "scan(cell)")
  out.hover = request(bufnr, "textDocument/hover", row, col + 5)
  row, col = find(bufnr, "<- backbone")
  out.definition = request(bufnr, "textDocument/definition", row, col + 3)
  out.backbone_decl_line = (find(bufnr, "backbone ="))
  step("navigation")

  -- A short SVI through :QvrRunSvi, cursor inside the program.
  row, col = find(bufnr, "sample h")
  vim.api.nvim_win_set_cursor(0, { row + 1, col })
  out.entry_at_cursor = require("qvr.program").at_cursor(0)
  vim.cmd("QvrRunSvi")
  out.run_finished = vim.wait(TIMEOUT, function()
    return qvr.last_result ~= nil
  end, 100)
  local r = qvr.last_result or {}
  out.run = {
    ok = r.ok, kind = r.kind, entry = r.entry, final_loss = r.final_loss, message = r.message,
    n_losses = type(r.losses) == "table" and #r.losses or 0,
    posterior_sites = type(r.posterior) == "table" and vim.tbl_keys(r.posterior) or {},
  }
  out.progress = qvr.progress_log
  out.describe = qvr.last_result and qvr.describe(qvr.last_result) or nil
  out.result_lines = qvr.last_result and qvr.show_result() or nil
  step("run")

  -- A long run, cancelled with :QvrCancel after its first progress report.
  vim.cmd("buffer " .. bufnr)
  vim.api.nvim_win_set_cursor(0, { row + 1, col })
  qvr.last_result = nil
  qvr.update_settings({ qvr = { run = { steps = 100000 } } })
  local reports_before = #qvr.progress_log
  vim.cmd("QvrRunSvi")
  out.long_run_progressed = vim.wait(TIMEOUT, function()
    for i = reports_before + 1, #qvr.progress_log do
      if qvr.progress_log[i].kind == "report" then
        return true
      end
    end
    return false
  end, 50)
  vim.cmd("QvrCancel")
  out.cancel_finished = vim.wait(30000, function()
    return qvr.last_result ~= nil
  end, 50)
  out.cancelled_run = qvr.last_result and { ok = qvr.last_result.ok, message = qvr.last_result.message } or nil
  -- The long run's first report names its step count: the changed setting reached the worker.
  out.long_run_messages = {}
  for i = reports_before + 1, #qvr.progress_log do
    table.insert(out.long_run_messages, qvr.progress_log[i].message or "")
  end
  -- Wait for :QvrCancel's own answer; the progress end ("cancelled — done") may come first.
  vim.wait(10000, function()
    local messages = vim.api.nvim_exec("messages", true)
    return messages:find("[qvr] cancelled ", 1, true) ~= nil or messages:find("[qvr] no run", 1, true) ~= nil
  end, 50)
  out.messages = vim.api.nvim_exec("messages", true)
  step("cancel")
end

local ok, err = xpcall(main, debug.traceback)
if not ok then
  out.fatal = err
end
-- Stop the server cleanly before leaving, bounded.
for _, client in pairs(vim.lsp.get_active_clients()) do
  client.stop()
end
vim.wait(3000, function()
  return #vim.lsp.get_active_clients() == 0
end, 50)
write_out()
vim.cmd("qa!")
