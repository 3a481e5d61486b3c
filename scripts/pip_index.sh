# Sourced by lock.sh and setup.sh: uv reads none of pip's configuration, so this turns pip's own settings
# (index, extra indexes, find-links, global constraints: `pip config list` and PIP_* variables) into uv
# flags. Both installers then see the same packages: the CUDA torch wheels on the local indexes included.
uv_index_flags=()
_pip_setting() {  # the last value pip would use for global.NAME, from its config files or PIP_NAME
  local name="$1" env_name="PIP_${1^^}"
  env_name="${env_name//-/_}"
  if [ -n "${!env_name:-}" ]; then echo "${!env_name}"; return; fi
  python3 -m pip config list 2>/dev/null | sed -n "s/^global\.$name='\(.*\)'$/\1/p" | tail -1
}
_index_url="$(_pip_setting index-url)"
[ -n "$_index_url" ] && uv_index_flags+=(--default-index "$_index_url")
for _url in $(_pip_setting extra-index-url); do uv_index_flags+=(--index "$_url"); done
for _dir in $(_pip_setting find-links); do uv_index_flags+=(--find-links "$_dir"); done
for _file in $(_pip_setting constraint); do [ -r "$_file" ] && uv_index_flags+=(--constraint "$_file"); done
# pip picks the best version across all indexes; uv's default stops at the first index that has the name.
uv_index_flags+=(--index-strategy unsafe-best-match)
unset _index_url _url _dir _file
