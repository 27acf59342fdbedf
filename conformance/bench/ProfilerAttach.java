import com.sun.tools.attach.VirtualMachine;

/**
 * Loads async-profiler into a running JVM with one command string, e.g.
 * {@code java ProfilerAttach.java PID /path/libasyncProfiler.so start,event=cpu,file=out.collapsed,collapsed}.
 * (jcmd's JVMTI.agent_load splits options at '=', which async-profiler's commands are full of.)
 */
public class ProfilerAttach {
  public static void main(String[] args) throws Exception {
    VirtualMachine vm = VirtualMachine.attach(args[0]);
    try {
      vm.loadAgentPath(args[1], args[2]);
    } finally {
      vm.detach();
    }
  }
}
