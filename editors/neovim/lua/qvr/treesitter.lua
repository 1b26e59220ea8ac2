-- The QVR tree-sitter parser and queries for Neovim 0.7+, without nvim-treesitter: compiles
-- grammar/src/parser.c (and scanner.c) to a shared library when it is missing or stale,
-- registers it, loads the queries from grammar/queries/*.scm and starts highlighting.
local M = {}

local QUERIES = { "highlights", "locals", "folds", "indents", "textobjects" }

local function mtime(path)
  local stat = vim.loop.fs_stat(path)
  return stat and stat.mtime.sec or nil
end

local function read(path)
  local file = io.open(path, "r")
  if not file then
    return nil
  end
  local text = file:read("*a")
  file:close()
  return text
end

--- Compile the parser into `parser_dir/parser/qvr.so` unless it is newer than its sources.
--- Returns the library path, or nil and an error message.
function M.build(grammar_dir, parser_dir, cc)
  local src = grammar_dir .. "/src"
  local sources = { src .. "/parser.c" }
  if mtime(src .. "/scanner.c") then
    table.insert(sources, src .. "/scanner.c")
  end
  if not mtime(sources[1]) then
    return nil, "no " .. sources[1] .. " (set grammar_dir in require('qvr').setup())"
  end
  local out = parser_dir .. "/parser/qvr.so"
  local built = mtime(out)
  local stale = not built
  for _, file in ipairs(sources) do
    stale = stale or mtime(file) > built
  end
  if stale then
    vim.fn.mkdir(parser_dir .. "/parser", "p")
    local cmd = { cc or "cc", "-shared", "-fPIC", "-O2", "-I", src }
    vim.list_extend(cmd, sources)
    vim.list_extend(cmd, { "-o", out })
    local output = vim.fn.system(cmd)
    if vim.v.shell_error ~= 0 then
      return nil, "compiling the QVR parser failed: " .. output
    end
  end
  return out
end

--- Register the parser library and the queries under the language name `qvr`.
function M.register(library, grammar_dir)
  local ok, err
  if vim.treesitter.language and vim.treesitter.language.add then -- 0.9+
    ok, err = pcall(vim.treesitter.language.add, "qvr", { path = library })
  else -- 0.7, 0.8
    ok, err = pcall(vim.treesitter.require_language, "qvr", library)
  end
  if not ok then
    return false, "loading the QVR parser failed: " .. tostring(err)
  end
  local set_query = vim.treesitter.query.set or vim.treesitter.query.set_query
  for _, name in ipairs(QUERIES) do
    local text = read(grammar_dir .. "/queries/" .. name .. ".scm")
    if text then
      set_query("qvr", name, text)
    end
  end
  return true
end

--- Start tree-sitter highlighting in a buffer.
function M.highlight(bufnr)
  if vim.treesitter.start then -- 0.8+
    vim.treesitter.start(bufnr, "qvr")
  else
    vim.treesitter.highlighter.new(vim.treesitter.get_parser(bufnr, "qvr"))
  end
end

return M
