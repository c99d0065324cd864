"""onestep policy node for a 7-DoF arm (joint1..joint7): the node alone.

    ros2 launch launch/arm_policy.launch.py model:=/path/to/policy.onnx namespace:=/arm

Runs `onestep serve` from this checkout, with the ROS arguments a launch_ros Node would pass. Stopping the launch
sends SIGINT: the node publishes its final safe action and closes its endpoints before exiting.
"""
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution, ThisLaunchFileDir


def generate_launch_description():
    here = ThisLaunchFileDir()
    return LaunchDescription([
        DeclareLaunchArgument('model', default_value=PathJoinSubstitution([here, '..', 'models', 'arm_reach', 'policy.onnx']),
                              description='Exported ONNX policy'),
        DeclareLaunchArgument('params_file', default_value=PathJoinSubstitution([here, 'arm_policy.yaml']),
                              description='Node parameters (ROS 2 YAML)'),
        DeclareLaunchArgument('namespace', default_value='/', description='Node namespace'),
        DeclareLaunchArgument('node_name', default_value='policy_node', description='Node name'),
        DeclareLaunchArgument('transport', default_value='auto', description='auto | rtps | rclnodejs'),
        DeclareLaunchArgument('log_level', default_value='info', description='debug | info | warn | error'),
        ExecuteProcess(
            name=LaunchConfiguration('node_name'),
            cmd=[
                'node', PathJoinSubstitution([here, '..', 'bin', 'onestep.js']), 'serve',
                '--model', LaunchConfiguration('model'),
                '--params-file', LaunchConfiguration('params_file'),
                '--transport', LaunchConfiguration('transport'),
                '--ros-args',
                '-r', ['__node:=', LaunchConfiguration('node_name')],
                '-r', ['__ns:=', LaunchConfiguration('namespace')],
                '--log-level', LaunchConfiguration('log_level'),
            ],
            output='screen',
            sigterm_timeout='5',
        ),
    ])
