/**
 * WebGPU for Node: Dawn through the `webgpu` package (ESM, native), loaded only when asked for
 * (`convlens compute --engine webgpu`, the WebGPU tests). Dawn needs a graphics driver: on Linux it uses
 * Vulkan, which needs the Vulkan loader (libvulkan.so.1) and a driver (an ICD). Machines without a GPU can
 * still run WebGPU on SwiftShader, the software Vulkan driver Chromium ships: when no other Vulkan driver is
 * configured and Chromium's is installed, it is used, through Chromium's own loader when the system has none.
 * Everything that can go wrong comes back as a reason in words, so the caller can fall back to the CPU engine
 * and say why.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Where Chromium (Debian, Ubuntu, Fedora) and Google Chrome keep SwiftShader and their Vulkan loader. */
const CHROMIUM_DIRS = [
  '/usr/lib/chromium',
  '/usr/lib/chromium-browser',
  '/usr/lib64/chromium-browser',
  '/opt/google/chrome',
];
const SWIFTSHADER_ICD = 'vk_swiftshader_icd.json';

/** Where the Vulkan loader looks for driver manifests when VK_ICD_FILENAMES / VK_DRIVER_FILES are unset. */
function systemIcdDirs(): string[] {
  const dirs = ['/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/share/vulkan/icd.d'];
  const dataHome = process.env['XDG_DATA_HOME'] || path.join(os.homedir(), '.local/share');
  dirs.push(path.join(dataHome, 'vulkan/icd.d'));
  for (const dir of (process.env['XDG_DATA_DIRS'] || '').split(':').filter(Boolean)) {
    dirs.push(path.join(dir, 'vulkan/icd.d'));
  }
  return dirs;
}

function hasSystemVulkanDriver(): boolean {
  return systemIcdDirs().some((dir) => {
    try {
      return fs.readdirSync(dir).some((name) => name.endsWith('.json'));
    } catch {
      return false;
    }
  });
}

/** glibc's RTLD_NODELETE: the library stays loaded after Node closes it again (see preloadVulkanLoader). */
const RTLD_NODELETE = 0x1000;

/**
 * Whether `dlopen(name)` finds a library. Node's process.dlopen opens it and then, as it is no Node addon,
 * closes it again and throws "did not self-register"; "cannot open shared object file" means it is missing.
 */
function libraryLoads(name: string, flags = os.constants.dlopen.RTLD_LAZY): boolean {
  try {
    process.dlopen({ exports: {} } as NodeJS.Module, name, flags);
    return true;
  } catch (error) {
    return !/cannot open shared object file|No such file/.test(String(error));
  }
}

/**
 * Makes Chromium's Vulkan loader the one Dawn finds. Dawn opens "libvulkan.so.1" by name, and the library
 * search path cannot change once a process runs (glibc reads LD_LIBRARY_PATH at start), but a library that
 * is already loaded is found by its name: so the loader is opened once by its full path, with RTLD_NODELETE
 * so that it stays when Node closes it again.
 */
function preloadVulkanLoader(file: string): boolean {
  const { RTLD_NOW, RTLD_GLOBAL } = os.constants.dlopen;
  return libraryLoads(file, RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE) && libraryLoads('libvulkan.so.1');
}

function chromiumDir(): string | null {
  return CHROMIUM_DIRS.find((dir) => fs.existsSync(path.join(dir, SWIFTSHADER_ICD))) ?? null;
}

/** What was done to find a driver, for messages. */
export interface NodeGpuSetup {
  /** The Vulkan driver manifests in use ("system drivers" when the loader searches its usual places). */
  readonly drivers: string;
  /** Whether Chromium's SwiftShader was chosen because nothing else was configured. */
  readonly swiftshader: boolean;
}

type WebGpuModule = { create(flags: string[]): GPU };

/**
 * Dawn opened, or why not: 'driver' (no Vulkan driver or loader), 'package' (the webgpu package did not load),
 * 'adapter' (Dawn started but offers no adapter).
 */
export type NodeGpuOutcome =
  | { readonly ok: true; readonly gpu: GPU; readonly setup: NodeGpuSetup }
  | { readonly ok: false; readonly stage: 'driver' | 'package' | 'adapter'; readonly error: string };

/**
 * Opens Dawn with the right backend and driver and checks that it offers an adapter. On Linux: Vulkan, with
 * the drivers the user configured (VK_ICD_FILENAMES, VK_DRIVER_FILES, or manifests in the usual places) or
 * else Chromium's SwiftShader; elsewhere Dawn's default backend (Metal, D3D12).
 */
export async function openNodeGpu(): Promise<NodeGpuOutcome> {
  const linux = process.platform === 'linux';
  let swiftshader = false;
  let drivers = 'the default drivers';
  const chromium = linux ? chromiumDir() : null;
  if (linux) {
    const configured = process.env['VK_ICD_FILENAMES'] || process.env['VK_DRIVER_FILES'];
    if (configured) {
      drivers = configured;
    } else if (hasSystemVulkanDriver()) {
      drivers = 'the system Vulkan drivers';
    } else if (chromium) {
      process.env['VK_ICD_FILENAMES'] = path.join(chromium, SWIFTSHADER_ICD);
      drivers = `SwiftShader (${process.env['VK_ICD_FILENAMES']})`;
      swiftshader = true;
    } else {
      return {
        ok: false,
        stage: 'driver',
        error:
          'No Vulkan driver is configured (no VK_ICD_FILENAMES, no manifests in /usr/share/vulkan/icd.d) and ' +
          'Chromium’s SwiftShader is not installed; install a GPU driver or the chromium package.',
      };
    }
    if (!libraryLoads('libvulkan.so.1')) {
      const loader = chromium ? path.join(chromium, 'libvulkan.so.1') : null;
      if (!loader || !fs.existsSync(loader) || !preloadVulkanLoader(loader)) {
        return {
          ok: false,
          stage: 'driver',
          error:
            'The Vulkan loader (libvulkan.so.1) is missing; install libvulkan1 (or the chromium package).',
        };
      }
    }
  }

  let module: WebGpuModule;
  try {
    // A real dynamic import: `webgpu` is ESM-only, native and optional (a devDependency, external to the
    // CLI bundle), so it is only loaded when WebGPU is asked for.
    module = (await import('webgpu')) as unknown as WebGpuModule;
  } catch (error) {
    return {
      ok: false,
      stage: 'package',
      error: `The webgpu package (Dawn for Node) could not be loaded: ${String(error)}. Run npm install.`,
    };
  }

  const open = async (): Promise<GPU | null> => {
    const gpu = module.create(linux ? ['backend=vulkan'] : []);
    return (await gpu.requestAdapter()) ? gpu : null;
  };
  let gpu = await open();
  if (!gpu && linux && !swiftshader && chromium && !process.env['VK_ICD_FILENAMES']) {
    // The configured drivers offer no adapter Dawn accepts (an old lavapipe, say): try SwiftShader.
    process.env['VK_ICD_FILENAMES'] = path.join(chromium, SWIFTSHADER_ICD);
    drivers = `SwiftShader (${process.env['VK_ICD_FILENAMES']}), as ${drivers} offered no adapter`;
    swiftshader = true;
    gpu = await open();
  }
  if (!gpu) return { ok: false, stage: 'adapter', error: `Dawn found no WebGPU adapter with ${drivers}.` };
  return { ok: true, gpu, setup: { drivers, swiftshader } };
}

/**
 * The WebGPU entry point for Node (Dawn), or null when WebGPU cannot run here; the reason goes to `report`
 * (the CLI prints it and falls back to the CPU engine).
 */
export async function loadNodeGpu(report: (reason: string) => void = () => {}): Promise<GPU | null> {
  const opened = await openNodeGpu();
  if (!opened.ok) {
    report(opened.error);
    return null;
  }
  return opened.gpu;
}
